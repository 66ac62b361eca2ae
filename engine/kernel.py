"""The compiled stepping loop: ``Stepper.step`` of ``engine.runner`` for one row at a time, in scalars.

Every function here is plain Python that ``engine.accel`` compiles with numba. It adds no
mathematics of its own: a surface's value, gradient and Hessian are the ``@twin`` functions
beside the surface's numpy code (``engine/surfaces``), an update rule's are beside the numpy
transform (``engine/transforms.py``). This module only dispatches to them by name and loops:

- ``advance``: up to n steps of the given rows, recording each new point (runs and streams);
- ``sweep`` and ``sweep_heavy_ball``: the same steps for a grid of rows, steps outside and rows
  inside, without a record (an (η, β) sweep).

All three decide a row's fate with one ``stop_code``, as ``Stepper.step`` does.
"""

from __future__ import annotations

import math

from engine.surfaces import booth, classic, data, landscape, net221, random_field, softmax3
from engine.surfaces import formula_twin as formula
from engine.transforms import (adagrad_twin, adam_twin, learning_rate_twin, newton_twin, rms_twin,
                               start_hessian_twin, trace_twin)

def no_examples(sp, ip, work, ex):
    """The per-example gradients of a surface that has no examples: nothing (SGD there is GD plus noise)."""


# --- names ----------------------------------------------------------------------------------

#: Every surface with a twin: (``Surface.TWIN``, its value-and-gradient twin, its Hessian twin, its per-example
#: gradients twin). A surface's row here is all the kernel needs to run it: the loops below take the three
#: functions as arguments, and ``on_surface`` hands them a surface's by its index here (compiled,
#: ``engine._numba_glue.surface_kernel`` makes each surface's entry points of its own, one surface at a time).
SURFACE_TWINS = (
    ("quadratic", classic.quadratic_twin, classic.quadratic_hessian_twin, no_examples),
    ("saddle", classic.saddle_twin, classic.saddle_hessian_twin, no_examples),
    ("rosenbrock", classic.rosenbrock_twin, classic.rosenbrock_hessian_twin, no_examples),
    ("himmelblau", classic.himmelblau_twin, classic.himmelblau_hessian_twin, no_examples),
    ("beale", classic.beale_twin, classic.beale_hessian_twin, no_examples),
    ("landscape", landscape.landscape_twin, landscape.landscape_hessian_twin, no_examples),
    ("two_weight_net", data.two_weight_net_twin, data.two_weight_net_hessian_twin, data.two_weight_net_examples_twin),
    ("logistic_neuron", data.logistic_neuron_twin, data.logistic_neuron_hessian_twin,
     data.logistic_neuron_examples_twin),
    ("booth", booth.booth_twin, booth.booth_hessian_twin, no_examples),
    ("softmax3", softmax3.softmax3_twin, softmax3.softmax3_hessian_twin, no_examples),
    ("random_field", random_field.random_field_twin, random_field.random_field_hessian_twin, no_examples),
    ("net221", net221.net221_twin, net221.net221_hessian_twin, no_examples),
    ("formula", formula.formula_twin, formula.formula_hessian_twin, no_examples),
)
#: ``Surface.TWIN`` names in table order: a Plan's surface index.
SURFACE_NAMES = tuple(row[0] for row in SURFACE_TWINS)
#: Surfaces whose value costs as much as their gradient, with a twin for the gradient alone: (a number finite
#: exactly when the value is, ∂x, ∂y). The sweeps' steps need only the gradient; they ask for the value where a
#: row stops, and at the last step of a call that wants values. Every other surface's gradient twin is its
#: value-and-gradient twin.
GRADIENT_TWINS = {"random_field": random_field.random_field_gradient_twin,
                  "two_weight_net": data.two_weight_net_gradient_twin}


def surface_twins(i):
    """Surface ``i``'s twins as the loops take them: value and gradient, gradient, Hessian, per-example gradients."""
    name, value_and_grad, hessian, example_grads = SURFACE_TWINS[i]
    return value_and_grad, GRADIENT_TWINS.get(name, value_and_grad), hessian, example_grads

#: Update rules, and the optimizer each catalog name runs (sgd is the heavy ball on a sampled gradient).
RULES = ("gd", "heavy_ball", "adagrad", "rmsprop", "adam", "newton", "preconditioned")
GD, HEAVY_BALL, ADAGRAD, RMSPROP, ADAM, NEWTON, PRECONDITIONED = range(len(RULES))
RULE_OF = {"gd": GD, "momentum": HEAVY_BALL, "nesterov": HEAVY_BALL, "sgd": HEAVY_BALL, "adagrad": ADAGRAD,
           "rmsprop": RMSPROP, "adam": ADAM, "newton": NEWTON, "preconditioned": PRECONDITIONED}

#: Columns of a row of hyperparameters (``hp``); a row's state (``st``) has STATE_SIZE columns.
HYPERPARAMETERS = ("lr", "momentum", "nesterov", "schedule", "decay_every", "eps", "alpha", "beta2", "batch_size",
                   "noise")
LR, MU, NESTEROV, SCHEDULE, DECAY_EVERY, EPS, ALPHA, BETA2, BATCH, NOISE = range(len(HYPERPARAMETERS))
STATE_SIZE = 4

#: A row's fate after a step (the runner's status names, as numbers).
RUNNING, CONVERGED, DIVERGED = 0, 1, 2


# --- dispatch by name -------------------------------------------------------------------------

def on_surface(loop, surface, args):
    """``loop(value_and_grad, gradient, hessian, example_grads, surface, *args)``, the twins of ``surface``'s kind.

    In Python a look-up in SURFACE_TWINS. Compiled, not used: ``engine._numba_glue.surface_kernel``
    binds one row's twins to the ``*_on`` loops, a numba function per surface, so its twins are
    inlined into the loop (a test of the kind at every step kept them out: a sweep 15× slower), and
    each surface compiles on its own when it is wanted."""
    return loop(*surface_twins(surface[0]), surface, *args)


def update(rule, hp, st, count, g0, g1, hxx, hxy, hyy):
    """One row's step (−η_k d) by its update rule; ``count`` is the step number k = 1, 2, …"""
    if rule == GD:
        d0, d1 = g0, g1
    elif rule == HEAVY_BALL:
        d0, d1 = trace_twin(hp[MU], hp[NESTEROV] != 0, g0, g1, st)
    elif rule == ADAGRAD:
        d0, d1 = adagrad_twin(hp[EPS], g0, g1, st)
    elif rule == RMSPROP:
        d0, d1 = rms_twin(hp[ALPHA], hp[EPS], g0, g1, st)
    elif rule == ADAM:
        d0, d1 = adam_twin(hp[ALPHA], hp[BETA2], hp[EPS], count, g0, g1, st)
    elif rule == NEWTON:
        d0, d1 = newton_twin(hxx, hxy, hyy, g0, g1)
    else:
        d0, d1 = start_hessian_twin(count == 1, hxx, hxy, hyy, g0, g1, st)
    eta = learning_rate_twin(hp[LR], int(hp[SCHEDULE]), hp[DECAY_EVERY], count)
    return -eta * d0, -eta * d1


def needs_hessian(rule, count):
    """Whether the next update (number count + 1) reads the Hessian at the current point."""
    return rule == NEWTON or (rule == PRECONDITIONED and count == 0)


def stop_code(finite, n0, n1, gn, tol, bound):
    """A row's fate after a step to (n0, n1) with ‖g‖ = gn, as ``Stepper.step`` decides it."""
    if not finite or max(abs(n0), abs(n1)) > bound:
        return DIVERGED
    if tol > 0 and gn < tol:
        return CONVERGED
    return RUNNING


# --- the loops --------------------------------------------------------------------------------

def advance(surface, rows, state, record, rng, which, k0, n, tol, bound):
    """Up to ``n`` steps of rows ``which``; returns the most steps a row took (``advance_on`` the surface's twins).

    ``surface`` = (kind, sp, ip, loops, work, ex); ``rows`` = (rules, hp, st, counts, perms) with
    perms the current epoch's permutation of a stochastic row; ``state`` = (x, f, g, gnorm, active,
    code, steps_taken, stop_step), updated in place; ``record`` = (points, losses, grad_norms) of
    shape (K, n, ·), where row i's new entries go to ``[i, :m]``. ``rng`` is the numpy Generator of
    the one stochastic row in ``which`` (any Generator otherwise).
    """
    return on_surface(advance_on, surface, (rows, state, record, rng, which, k0, n, tol, bound))


def advance_on(value_and_grad, gradient, hessian, example_grads, surface, rows, state, record, rng, which, k0, n, tol,
               bound):
    """``advance`` with the surface's twins given (every step records its value: ``gradient`` is not used)."""
    _, sp, ip, loops, work, ex = surface
    rules, hp, st, counts, perms = rows
    x, f, g, gnorm, active, code, steps_taken, stop_step = state
    pts, fs, gs = record
    n_ex = ex.shape[0]
    recording = pts.shape[1] > 0
    done = 0
    for i in which:
        if not active[i]:
            continue
        rule, h, s = rules[i], hp[i], st[i]
        batch, noise = int(h[BATCH]), h[NOISE]
        sampled = batch > 0 and batch < n_ex  # a mini-batch of a data surface
        count = counts[i]
        x0, x1, g0, g1, fi, gni = x[i, 0], x[i, 1], g[i, 0], g[i, 1], f[i], gnorm[i]
        taken = 0
        hxx = hxy = hyy = 0.0
        if needs_hessian(rule, count):
            hxx, hxy, hyy = hessian(sp, ip, loops, work, x0, x1)
        if sampled:  # the examples' gradients at the current point, as ex; then kept up to date below
            value_and_grad(sp, ip, loops, work, x0, x1)
            example_grads(sp, ip, work, ex)
        j = 0
        result = RUNNING
        while j < n:
            u0, u1 = g0, g1
            if sampled:
                u0, u1 = batch_mean(ex, perms[i], rng, k0 + j + 1, batch)
            if noise > 0:
                z = rng.standard_normal(2)
                u0, u1 = u0 + noise * z[0], u1 + noise * z[1]
            count += 1
            d0, d1 = update(rule, h, s, count, u0, u1, hxx, hxy, hyy)
            n0, n1 = x0 + d0, x1 + d1
            fn, gn0, gn1 = value_and_grad(sp, ip, loops, work, n0, n1)
            gn = math.sqrt(gn0 * gn0 + gn1 * gn1)
            j += 1
            finite = math.isfinite(fn) and math.isfinite(gn) and math.isfinite(n0) and math.isfinite(n1)
            if finite:
                x0, x1, g0, g1, fi, gni = n0, n1, gn0, gn1, fn, gn
                taken += 1
                if rule == NEWTON:
                    hxx, hxy, hyy = hessian(sp, ip, loops, work, x0, x1)
                if sampled:
                    example_grads(sp, ip, work, ex)
                if recording:
                    pts[i, j - 1, 0], pts[i, j - 1, 1], fs[i, j - 1], gs[i, j - 1] = n0, n1, fn, gn
            result = stop_code(finite, n0, n1, gn, tol, bound)
            if result != RUNNING:
                active[i] = False
                code[i] = result
                stop_step[i] = k0 + j
                break
        x[i, 0], x[i, 1], g[i, 0], g[i, 1], f[i], gnorm[i] = x0, x1, g0, g1, fi, gni
        counts[i] = count
        steps_taken[i] += taken
        done = max(done, j)
    return done


def batch_mean(ex, perm, rng, step, batch):
    """The mean of the examples' gradients ``ex`` over step ``step``'s mini-batch, as ``Stepper._batch``
    and ``_stochastic_grad`` draw it: epochs of N // b batches, a new permutation at each epoch's start."""
    n_ex = ex.shape[0]
    j = (step - 1) % (n_ex // batch)
    if j == 0:
        perm[:] = rng.permutation(n_ex)
    first = perm[j * batch]
    s0, s1 = ex[first, 0], ex[first, 1]
    for b in range(j * batch + 1, (j + 1) * batch):
        s0, s1 = s0 + ex[perm[b], 0], s1 + ex[perm[b], 1]
    return s0 / batch, s1 / batch


def sweep(surface, rows, state, k0, n, tol, bound, values):
    """``advance`` without a record, steps outside and rows inside: every row takes exactly the steps
    it takes there, but the rows' independent steps overlap in the processor (3× faster for a sweep).
    No stochastic rows (``accel.plan_grid`` keeps them on the reference). A row that stops has its
    value; one still running has the value at its last point only with ``values`` (else a stand-in,
    finite exactly where the value is: see GRADIENT_TWINS)."""
    return on_surface(sweep_on, surface, (rows, state, k0, n, tol, bound, values))


def sweep_on(value_and_grad, gradient, hessian, example_grads, surface, rows, state, k0, n, tol, bound, values):
    """``sweep`` with the surface's twins given."""
    _, sp, ip, loops, work, ex = surface
    rules, hp, st, counts, perms = rows
    x, f, g, gnorm, active, code, steps_taken, stop_step = state
    done = 0
    for j in range(n):
        last = values and j == n - 1
        alive = 0
        for i in range(x.shape[0]):
            if not active[i]:
                continue
            rule = rules[i]
            x0, x1 = x[i, 0], x[i, 1]
            hxx = hxy = hyy = 0.0
            if needs_hessian(rule, counts[i]):
                hxx, hxy, hyy = hessian(sp, ip, loops, work, x0, x1)
            counts[i] += 1
            d0, d1 = update(rule, hp[i], st[i], counts[i], g[i, 0], g[i, 1], hxx, hxy, hyy)
            n0, n1 = x0 + d0, x1 + d1
            fn, gn0, gn1 = value_and_grad(sp, ip, loops, work, n0, n1) if last else gradient(sp, ip, loops, work,
                                                                                                n0, n1)
            gn = math.sqrt(gn0 * gn0 + gn1 * gn1)
            finite = math.isfinite(fn) and math.isfinite(gn) and math.isfinite(n0) and math.isfinite(n1)
            result = stop_code(finite, n0, n1, gn, tol, bound)
            if finite and result != RUNNING and not last:
                fn = value_and_grad(sp, ip, loops, work, n0, n1)[0]
            if finite:
                x[i, 0], x[i, 1], g[i, 0], g[i, 1], f[i], gnorm[i] = n0, n1, gn0, gn1, fn, gn
                steps_taken[i] += 1
            else:  # it stops where it was, whose value a gradient twin may have stood in for
                f[i] = value_and_grad(sp, ip, loops, work, x0, x1)[0]
            if result != RUNNING:
                active[i] = False
                code[i] = result
                stop_step[i] = k0 + j + 1
            else:
                alive += 1
        done = j + 1
        if alive == 0:
            break
    return done


def sweep_heavy_ball(surface, heavy, nesterov, lr, mu, columns, state, k0, n, tol, bound, values):
    """``sweep`` for the case sweeps are made of: every row GD (``heavy`` false) or every row heavy ball
    (Nesterov or not), constant step sizes, on a closed-form surface. The same operations as
    ``trace_twin`` and ``update`` on columns of their own (``columns`` = x0, x1, g0, g1, v0, v1), with
    nothing else in the loop, and stopped rows computed too but not kept (a skip that depends on
    the row mispredicts): three times faster again."""
    return on_surface(sweep_heavy_ball_on, surface, (heavy, nesterov, lr, mu, columns, state, k0, n, tol, bound,
                                                     values))


def sweep_heavy_ball_on(value_and_grad, gradient, hessian, example_grads, surface, heavy, nesterov, lr, mu, columns,
                        state, k0, n, tol, bound, values):
    """``sweep_heavy_ball`` with the surface's twins given."""
    _, sp, ip, loops, work, ex = surface
    x0, x1, g0, g1, v0, v1 = columns
    x, f, g, gnorm, active, code, steps_taken, stop_step = state
    done = 0
    for j in range(n):
        last = values and j == n - 1
        alive = 0
        for i in range(x0.shape[0]):
            a0, a1 = g0[i], g1[i]
            m = mu[i]
            w0 = m * v0[i] + a0
            w1 = m * v1[i] + a1
            if not heavy:
                d0, d1 = a0, a1
            elif nesterov:
                d0, d1 = a0 + m * w0, a1 + m * w1
            else:
                d0, d1 = w0, w1
            eta = lr[i]
            n0 = x0[i] + -eta * d0
            n1 = x1[i] + -eta * d1
            fn, gn0, gn1 = value_and_grad(sp, ip, loops, work, n0, n1) if last else gradient(sp, ip, loops, work,
                                                                                                n0, n1)
            gn = math.sqrt(gn0 * gn0 + gn1 * gn1)
            finite = math.isfinite(fn) and math.isfinite(gn) and math.isfinite(n0) and math.isfinite(n1)
            result = stop_code(finite, n0, n1, gn, tol, bound)
            if active[i]:
                if heavy:
                    v0[i], v1[i] = w0, w1
                if finite and result != RUNNING and not last:
                    fn = value_and_grad(sp, ip, loops, work, n0, n1)[0]
                if finite:
                    x0[i], x1[i], g0[i], g1[i], f[i], gnorm[i] = n0, n1, gn0, gn1, fn, gn
                    steps_taken[i] += 1
                else:  # it stops where it was, whose value a gradient twin may have stood in for
                    f[i] = value_and_grad(sp, ip, loops, work, x0[i], x1[i])[0]
                if result != RUNNING:
                    active[i] = False
                    code[i] = result
                    stop_step[i] = k0 + j + 1
                else:
                    alive += 1
        done = j + 1
        if alive == 0:
            break
    return done


#: Compiled by engine.accel (the entry points as each surface's own, engine._numba_glue.surface_kernel).
ENTRY_POINTS = (advance, sweep, sweep_heavy_ball)
COMPILED = (no_examples, on_surface, update, needs_hessian, stop_code, batch_mean, advance_on, sweep_on,
            sweep_heavy_ball_on) + ENTRY_POINTS
