/**
 * A one-line progress bar on stderr (stdout stays clean for the report).
 * Redraws at most every 100 ms; without a TTY it prints every 10%.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let lastDraw = 0;
  let lastTenth = -1;
  const started = Date.now();
  return {
    update(done: number, total: number) {
      const now = Date.now();
      const ratio = total === 0 ? 1 : done / total;
      if (!stream.isTTY) {
        const tenth = Math.floor(ratio * 10);
        if (tenth !== lastTenth)
          stream.write(`${label} ${done}/${total} (${Math.round(ratio * 100)}%)\n`);
        lastTenth = tenth;
        return;
      }
      if (done !== total && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round(ratio * width);
      const seconds = ((now - started) / 1000).toFixed(1);
      stream.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${seconds}s`,
      );
      if (done === total) stream.write('\n');
    },
  };
}
