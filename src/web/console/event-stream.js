// Server-Sent Events read with fetch, because EventSource cannot send the
// Authorization header and the token must stay out of URLs (URLs end up in
// logs and history). Reconnects after a drop and resumes with Last-Event-ID,
// so nothing is missed. A drop is noticed at once: the stream ending, the
// browser going offline, or silence longer than the server's heartbeats allow
// (a dead network path ends no stream by itself).

/**
 * @param {object} options
 * @param {string} options.url
 * @param {string} options.token
 * @param {(type: string, data: any) => void} options.onEvent
 * @param {(state: 'connecting' | 'live' | 'reconnecting', resumed: boolean) => void} options.onState
 * @param {() => void} options.onUnauthorized  the token was revoked: stop for good
 * @param {number} [options.silenceMs]  no byte (not even a heartbeat) for this long: the stream is dead
 * @returns {{ stop(): void }}
 */
export function openEventStream({
  url,
  token,
  onEvent,
  onState,
  onUnauthorized,
  silenceMs = 40_000,
}) {
  let lastEventId = null;
  let retryMs = 2000;
  let stopped = false;
  let controller = null;

  const dispatch = (frame) => {
    let type = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      // Empty lines end frames; lines starting with ':' are comments (heartbeats).
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') lastEventId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (data.length === 0) return;
    try {
      onEvent(type, JSON.parse(data.join('\n')));
    } catch (error) {
      console.error('event not handled', type, error);
    }
  };

  const readUntilDropped = async () => {
    controller = new AbortController();
    const headers = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const response = await fetch(url, { headers, signal: controller.signal });
    if (response.status === 401) {
      stopped = true;
      onUnauthorized();
      return;
    }
    if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
    onState('live', lastEventId !== null);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let watchdog = null;
    const listen = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), silenceMs);
    };
    for (;;) {
      listen();
      const { value, done } = await reader.read().finally(() => clearTimeout(watchdog));
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  };

  const run = async () => {
    onState('connecting', false);
    while (!stopped) {
      try {
        await readUntilDropped();
      } catch (error) {
        if (!stopped) console.warn('event stream dropped', error);
      }
      if (stopped) return;
      onState('reconnecting', false);
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };

  // The browser knows the network is gone before any read fails.
  const offline = () => controller?.abort();
  window.addEventListener('offline', offline);
  void run();
  return {
    stop() {
      stopped = true;
      window.removeEventListener('offline', offline);
      controller?.abort();
    },
  };
}
