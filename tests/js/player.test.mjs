// The animation cursor (static/js/player.js) with a fake clock and frame loop.
import test from "node:test";
import assert from "node:assert/strict";
import { Player } from "../../static/js/player.js";

function fakePlayer() {
  let t = 0;
  const queue = [];
  const frames = [];
  const player = new Player({ onFrame: () => frames.push(player.cursor), now: () => t, raf: (f) => queue.push(f) });
  const advance = (ms) => { t += ms; const f = queue.shift(); if (f) f(); };
  return { player, frames, advance };
}

test("play moves the cursor at the speed in steps per second, then ends showing every step", () => {
  const { player, advance } = fakePlayer();
  player.speed = 30;
  const max = Object.assign(() => 60, { done: () => true });
  player.play(max);
  assert.equal(player.cursor, 0);
  advance(1000); // 30 steps in a second
  assert.equal(player.cursor, 30);
  advance(500);
  assert.equal(player.cursor, 45);
  advance(1000); // past the end: stops, and the cursor goes back to "every step"
  assert.equal(player.playing, false);
  assert.equal(player.cursor, null);
});

test("a stale animation loop stops itself after pause", () => {
  const { player, advance } = fakePlayer();
  player.play(() => 100);
  player.pause();
  const before = player.cursor;
  advance(1000);
  assert.equal(player.cursor, before);
});

test("step and reset", () => {
  const { player } = fakePlayer();
  player.step(() => 5);
  assert.equal(player.cursor, 1);
  player.step(() => 5);
  assert.equal(player.cursor, 2);
  player.reset();
  assert.equal(player.cursor, 0);
});

test("the speed slider is logarithmic from 1 to 1000 steps per second and round-trips to its resolution", () => {
  assert.equal(Player.speedFromSlider(0), 1);
  assert.equal(Player.speedFromSlider(100), 1000);
  // 101 positions over 3 decades: a position is a factor 10^0.03 ≈ 1.07 apart
  for (const speed of [1, 10, 30, 100, 1000]) {
    const back = Player.speedFromSlider(Player.sliderFromSpeed(speed));
    assert.ok(Math.abs(back / speed - 1) < 0.04, `${speed} → ${back}`);
  }
});
