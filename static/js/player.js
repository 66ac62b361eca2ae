// Play / Pause / Step / Reset over a run's steps. DOM-free: it only moves a cursor.
// Each play gets a token, so a stale animation loop notices it is stale and stops (as in TF Playground).

export class Player {
  constructor({ onFrame, now = () => performance.now(), raf = (f) => requestAnimationFrame(f) }) {
    this.onFrame = onFrame;
    this.now = now;
    this.raf = raf;
    this.cursor = null; // null: show every computed step
    this.playing = false;
    this.speed = 30; // steps per second
    this.token = 0;
  }

  /** Steps per second from a 0–100 slider, on a log scale from 1 to 1000. */
  static speedFromSlider(pos) {
    return Math.round(10 ** ((3 * pos) / 100));
  }

  static sliderFromSpeed(speed) {
    return Math.round((100 * Math.log10(Math.max(1, speed))) / 3);
  }

  play(maxSteps) {
    if (this.cursor === null || this.cursor >= maxSteps()) this.cursor = 0;
    this.playing = true;
    const token = ++this.token;
    let last = this.now();
    let carry = 0;
    const tick = () => {
      if (token !== this.token || !this.playing) return;
      const t = this.now();
      carry += ((t - last) / 1000) * this.speed;
      last = t;
      const whole = Math.floor(carry);
      carry -= whole;
      const max = maxSteps();
      this.cursor = Math.min(max, this.cursor + whole);
      if (this.cursor >= max && maxSteps.done?.()) {
        this.pause();
        this.cursor = null;
      }
      this.onFrame();
      if (this.playing) this.raf(tick);
    };
    this.onFrame();
    this.raf(tick);
  }

  pause() {
    this.playing = false;
    this.token++;
    this.onFrame();
  }

  step(maxSteps) {
    this.pause();
    const max = maxSteps();
    this.cursor = this.cursor === null ? Math.min(1, max) : Math.min(max, this.cursor + 1);
    this.onFrame();
  }

  reset() {
    this.pause();
    this.cursor = 0;
    this.onFrame();
  }
}
