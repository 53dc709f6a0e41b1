import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';

/**
 * Makes a single-Redis connection send every command of one turn of the event loop in one
 * socket write, as soon as the turn ends.
 *
 * ioredis's auto-pipelining also gathers a turn's commands into one write, but it keeps one
 * batch at Redis at a time: a command asked while a batch is out waits for that batch's last
 * reply before it is even sent. A buyer message goes through several Redis round trips in
 * turn, each of which could wait so, and a command kept waiting lives through more of V8's
 * young-generation collections. Here the socket is corked at a turn's first command and
 * uncorked when the turn's microtasks are done (process.nextTick, where ioredis's own batches
 * leave): one writev for the turn, and no wait for the batch before. Measured at 1,000 msg/s
 * on the producer, store and BullMQ worker connections (docs/architecture.md, "Round
 * nineteen").
 *
 * Replies, errors, scripts (EVALSHA, then EVAL after NOSCRIPT), MULTI and explicit pipelines
 * are ioredis's own: only the moment a command's bytes leave changes. For one Redis only; a
 * Cluster keeps ioredis's auto-pipelining (its batches are per node).
 */
export function tickWrites(redis: Redis): Redis {
  type SendCommand = (command: unknown, stream?: unknown) => unknown;
  const client = redis as unknown as { sendCommand: SendCommand; stream?: Socket };
  const send = client.sendCommand.bind(redis) as SendCommand;
  let corked = false;
  client.sendCommand = (command, stream) => {
    // `stream` is set for the commands an explicit pipeline collects: it writes them itself.
    const socket = client.stream;
    if (!stream && !corked && socket && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return send(command, stream);
  };
  return redis;
}
