export interface ReceivedEvent {
  id?: string;
  event: string;
  data: any;
}

/** A minimal SSE client over fetch, as a browser's EventSource would read the stream. */
export async function openEventStream(
  url: string,
  token: string,
  lastEventId?: string,
  extraHeaders: Record<string, string> = {},
) {
  const controller = new AbortController();
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    accept: 'text/event-stream',
    ...extraHeaders,
  };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: ReceivedEvent[] = [];
  const comments: string[] = [];
  const reader = response.body?.getReader();
  const done = (async () => {
    if (!reader) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done: ended, value: chunk } = await reader.read();
        if (ended) break;
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event: ReceivedEvent = { event: 'message', data: undefined };
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) {
            event.data = JSON.parse(data);
            events.push(event);
          }
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: response.status,
    events,
    comments,
    async waitFor(
      predicate: (e: ReceivedEvent) => boolean,
      timeoutMs = 10_000,
    ): Promise<ReceivedEvent> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = events.find(predicate);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(
        `no matching event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(', ')}`,
      );
    },
    async close() {
      controller.abort();
      // The abort alone can leave a pending read unsettled under load (the close then hung
      // until the test timed out); cancelling the reader settles it, as the Streams spec says.
      reader?.cancel().catch(() => undefined);
      await done;
    },
  };
}
