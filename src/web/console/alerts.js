// New-buyer alerts: a short beep made with WebAudio (no sound file to
// download), a desktop notification, and the waiting count in the tab title.

let audio = null;

/** A 180 ms two-tone beep. Browsers only let audio start after a user gesture; before that it is silent. */
export function beep() {
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') void audio.resume();
    const now = audio.currentTime;
    const gain = audio.createGain();
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.2, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.18);
    gain.connect(audio.destination);
    for (const [frequency, start] of [
      [880, 0],
      [1320, 0.09],
    ]) {
      const tone = audio.createOscillator();
      tone.type = 'sine';
      tone.frequency.setValueAtTime(frequency, now + start);
      tone.connect(gain);
      tone.start(now + start);
      tone.stop(now + start + 0.09);
    }
    return true;
  } catch {
    return false;
  }
}

/** Whether a desktop notification can be shown at all in this browser. */
export function notificationsSupported() {
  return typeof Notification === 'function';
}

/**
 * Shows a desktop notification when the agent is looking elsewhere; clicking
 * it brings the console forward on that conversation.
 */
export function notify(title, body, tag, onClick) {
  if (!notificationsSupported() || Notification.permission !== 'granted') return null;
  if (document.visibilityState === 'visible' && document.hasFocus()) return null;
  const notification = new Notification(title, { body, tag, lang: document.documentElement.lang });
  notification.addEventListener('click', () => {
    window.focus();
    onClick();
    notification.close();
  });
  return notification;
}

/** "(3) 客服工作台 · Seatmate": the waiting count first, so it shows on a narrow tab. */
export function setTitleCount(base, count) {
  document.title = count > 0 ? `(${count}) ${base}` : base;
}
