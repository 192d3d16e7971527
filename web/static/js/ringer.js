// ringer.js: how a ringing call gets the agent's attention without an audio file: a two-tone
// ring made with WebAudio, and a blinking title and favicon for when the tab is in the back.

// A UK-style double ring: 400 Hz + 450 Hz together, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off.
const tones = [400, 450];
const cadence = [[0, 0.4], [0.6, 1.0]]; // [on, off] seconds within one cycle
const cycleSeconds = 3.0;
const volume = 0.12;

/**
 * audioContext returns the page's one AudioContext, made on first use. Browsers start it
 * suspended until the user has interacted with the page; unlockAudio resumes it on the first
 * click or key press, so a ring that comes later is heard.
 */
let ctx = null;
export function audioContext() {
  if (!ctx) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  return ctx;
}

/** unlockAudio makes or resumes the AudioContext on every user gesture, so it runs when a call rings. */
export function unlockAudio() {
  const resume = () => {
    const c = audioContext();
    if (c && c.state === 'suspended') c.resume().catch(() => {});
  };
  window.addEventListener('pointerdown', resume, { capture: true });
  window.addEventListener('keydown', resume, { capture: true });
}

/** audioBlocked says whether the browser still holds sound back until a gesture. */
export function audioBlocked() {
  const c = audioContext();
  return !c || c.state !== 'running';
}

/**
 * Ringer plays the ring and blinks the tab while a call rings. start() and stop() may be called
 * any number of times.
 */
export class Ringer {
  constructor({ title = 'Incoming call' } = {}) {
    this.title = title;
    this.ringing = false;
    this.gain = null;
    this.oscillators = [];
    this.timer = 0;
    this.blink = 0;
    this.savedTitle = document.title;
    this.icon = document.querySelector('link[rel="icon"]');
    this.savedIcon = this.icon ? this.icon.getAttribute('href') : '';
    this.savedIconType = this.icon ? this.icon.getAttribute('type') : '';
  }

  start(who = '') {
    if (this.ringing) return;
    this.ringing = true;
    this.savedTitle = document.title;
    this.startSound();
    let on = false;
    const flip = () => {
      on = !on;
      document.title = on ? `☎ ${this.title}${who ? ': ' + who : ''}` : this.savedTitle;
      if (this.icon) {
        this.icon.setAttribute('type', 'image/svg+xml');
        this.icon.setAttribute('href', on ? ringIcon : this.savedIcon);
      }
    };
    flip();
    this.blink = setInterval(flip, 800);
  }

  stop() {
    if (!this.ringing) return;
    this.ringing = false;
    clearInterval(this.blink);
    clearInterval(this.timer);
    document.title = this.savedTitle;
    if (this.icon) {
      this.icon.setAttribute('href', this.savedIcon);
      if (this.savedIconType) this.icon.setAttribute('type', this.savedIconType);
    }
    const c = ctx;
    if (this.gain && c) {
      const now = c.currentTime;
      this.gain.gain.cancelScheduledValues(now);
      this.gain.gain.setTargetAtTime(0, now, 0.01);
    }
    const oscillators = this.oscillators;
    const gain = this.gain;
    this.oscillators = [];
    this.gain = null;
    setTimeout(() => {
      for (const o of oscillators) {
        try {
          o.stop();
        } catch {
          // Never started: nothing to stop.
        }
        o.disconnect();
      }
      if (gain) gain.disconnect();
    }, 100);
  }

  startSound() {
    const c = audioContext();
    if (!c) return;
    if (c.state === 'suspended') c.resume().catch(() => {});
    this.gain = c.createGain();
    this.gain.gain.value = 0;
    this.gain.connect(c.destination);
    for (const f of tones) {
      const o = c.createOscillator();
      o.type = 'sine';
      o.frequency.value = f;
      o.connect(this.gain);
      o.start();
      this.oscillators.push(o);
    }
    // Schedule one cycle ahead at a time; a 30 ms ramp at each edge avoids clicks.
    const schedule = () => {
      if (!this.gain) return;
      const t0 = c.currentTime + 0.05;
      const g = this.gain.gain;
      for (const [on, off] of cadence) {
        g.setValueAtTime(0, t0 + on);
        g.linearRampToValueAtTime(volume, t0 + on + 0.03);
        g.setValueAtTime(volume, t0 + off - 0.03);
        g.linearRampToValueAtTime(0, t0 + off);
      }
    };
    schedule();
    this.timer = setInterval(schedule, cycleSeconds * 1000);
  }
}

// A red handset on a light disc, as a data: URL (the page's CSP allows data: images).
const ringIcon = 'data:image/svg+xml,' + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
  + '<circle cx="16" cy="16" r="15" fill="#b3261e"/>'
  + '<path fill="#fff" d="M11.2 7.5c.7-.3 1.5 0 1.8.7l1.4 3.2c.3.6.1 1.3-.4 1.7l-1.6 1.3'
  + 'c.9 2 2.5 3.6 4.5 4.5l1.3-1.6c.4-.5 1.1-.7 1.7-.4l3.2 1.4c.7.3 1 1.1.7 1.8l-.9 2.3'
  + 'c-.3.7-1 1.1-1.8 1.1C13.9 23.3 8.7 18.1 8.5 10.9c0-.8.4-1.5 1.1-1.8z"/></svg>');
