// The page's address and lessons: the scene written into the URL hash as it changes, a hash opened
// (a full scene link, or a lesson's short link that opens the step's own scene), a lesson opened.

import { fromHash, normalizeScene, toHash } from "./state.js";
import { stepFromHash } from "./lessons/mode.js";
import { displaySuffix } from "./teach.js";
import { $ } from "./page.js";

/**
 * Navigation over a context { app, contour, player, lessons } and the functions buildControls and
 * sceneChanged (read when called).
 */
export function createNavigation(ctx) {
  const { app, contour, player } = ctx;
  /** The URL hash of the scene on screen (and of the lesson step, while one is open; and embed/present flags). */
  function hashOf() {
    return toHash(app.scene) + (ctx.lessons?.hashSuffix() ?? "") + displaySuffix();
  }

  let hashTimer = null;
  /**
   * The scene into the URL: at once, then at most every 500 ms while a slider is dragged (browsers
   * throttle history updates, and each costs a few ms).
   */
  function writeHash() {
    if (hashTimer) return;
    history.replaceState(null, "", hashOf());
    hashTimer = setTimeout(function trailing() {
      const hash = hashOf();
      if (location.hash === hash) {
        hashTimer = null;
        return;
      }
      history.replaceState(null, "", hash);
      hashTimer = setTimeout(trailing, 500);
    }, 500);
  }

  function openLesson(id, step = 1) {
    const lesson = app.lessons.find((l) => l.id === id);
    if (!lesson) return;
    $("#lesson-select").value = id;
    ctx.lessons.open(lesson, step); // loads the step's scene through the hooks below
  }

  /** A step's scene on screen: every control rebuilt, the animation back at the end. */
  function loadLessonScene(scene) {
    app.scene = normalizeScene({ ...scene, lesson: ctx.lessons.lesson.id }, app.catalog);
    app.grid = null;
    contour.clearGhosts();
    player.pause();
    player.cursor = null;
    ctx.buildControls();
    ctx.lessons.buildControls(app.scene);
    ctx.sceneChanged({ grid: true });
  }

  /** Open whatever a hash says: a short lesson link opens the step's own scene, a full link its own scene. */
  function applyHash(hash) {
    const scene = normalizeScene(fromHash(hash, app.catalog), app.catalog);
    const lesson = app.lessons.find((l) => l.id === scene.lesson);
    const short = !/(^#|&)s=/.test(hash);
    player.pause();
    player.cursor = null;
    app.grid = null; // the whole state, drawn afresh: no ghosts, no old contour
    contour.clearGhosts();
    if (lesson && short) return openLesson(lesson.id, stepFromHash(hash));
    app.scene = scene;
    if (lesson) {
      $("#lesson-select").value = lesson.id;
      ctx.lessons.open(lesson, stepFromHash(hash), { load: false });
    } else {
      $("#lesson-select").value = "";
      ctx.lessons.close();
    }
    ctx.buildControls();
    ctx.lessons.buildControls(app.scene);
    ctx.sceneChanged({ grid: true });
  }

  return { hashOf, writeHash, openLesson, loadLessonScene, applyHash };
}
