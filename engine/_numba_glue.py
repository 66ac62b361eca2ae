"""What only numba needs: compile every ``@twin`` and the kernel's entry points, one surface at a time (imported by ``engine.accel``
inside its compile thread, so nothing imports numba until the compiled path is wanted)."""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from engine import kernel, twins


@intrinsic
def _call_loop(typingctx, fn, data, n, p0, s0, p1, s1, p2, s2):
    """Call the numpy inner loop at address ``fn``: ``loop(char **args, npy_intp *dims, npy_intp *steps, data)``."""
    argtys = (fn, data, n, p0, s0, p1, s1, p2, s2)
    if not all(isinstance(t, types.Integer) for t in argtys):
        return None

    def codegen(context, builder, signature, args):
        fn, data, n, p0, s0, p1, s1, p2, s2 = [context.cast(builder, v, t, types.intp)
                                                for v, t in zip(args, signature.args)]
        i64 = ir.IntType(64)
        ptrs = cgutils.alloca_once(builder, i64, size=3)
        steps = cgutils.alloca_once(builder, i64, size=3)
        dims = cgutils.alloca_once(builder, i64, size=1)
        for k, (p, s) in enumerate(((p0, s0), (p1, s1), (p2, s2))):
            builder.store(p, builder.gep(ptrs, [ir.Constant(i64, k)]))
            builder.store(s, builder.gep(steps, [ir.Constant(i64, k)]))
        builder.store(n, dims)
        i8p = ir.IntType(8).as_pointer()
        loop_type = ir.FunctionType(ir.VoidType(), [i8p, i8p, i8p, i8p])
        loop = builder.inttoptr(fn, loop_type.as_pointer())
        builder.call(loop, [builder.bitcast(ptrs, i8p), builder.bitcast(dims, i8p), builder.bitcast(steps, i8p),
                            builder.inttoptr(data, i8p)])
        return context.get_dummy_value()

    return types.void(*argtys), codegen


@overload(twins.call_loop)
def _call_loop_compiled(fn, data, n, p0, s0, p1, s1, p2, s2):
    def impl(fn, data, n, p0, s0, p1, s1, p2, s2):
        _call_loop(fn, data, n, p0, s0, p1, s1, p2, s2)
    return impl


_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")


_registered = False


def _register() -> None:
    """Make the twins and the kernel's helpers callable from compiled code (once)."""
    global _registered
    if _registered:
        return
    for fn in twins.TWINS:
        if fn is not twins.call_loop:
            register_jitable(fn)
    for fn in kernel.COMPILED:
        if fn not in kernel.ENTRY_POINTS and fn is not kernel.on_surface:
            register_jitable(fn)
    _registered = True


def surface_kernel(i: int) -> dict:
    """The kernel's entry points for surface ``i`` of ``kernel.SURFACE_TWINS`` (by name, not compiled yet).

    Each is its own numba function whose loop calls that surface's twins, so they are inlined into
    it (a test of the kind at every step kept them out: a sweep 15× slower), and one surface
    compiles without the others (``engine.accel`` compiles them one at a time). The twins are the
    closures' cells, which numba's on-disk cache hashes into its key: one cache entry per surface."""
    _register()
    value_and_grad, gradient, hessian, example_grads = kernel.surface_twins(i)
    advance_on, sweep_on, heavy_on = kernel.advance_on, kernel.sweep_on, kernel.sweep_heavy_ball_on

    def advance(surface, rows, state, record, rng, which, k0, n, tol, bound):
        return advance_on(value_and_grad, gradient, hessian, example_grads, surface, rows, state, record, rng, which,
                          k0, n, tol, bound)

    def sweep(surface, rows, state, k0, n, tol, bound, values):
        return sweep_on(value_and_grad, gradient, hessian, example_grads, surface, rows, state, k0, n, tol, bound,
                        values)

    def sweep_heavy_ball(surface, heavy, nesterov, lr, mu, columns, state, k0, n, tol, bound, values):
        return heavy_on(value_and_grad, gradient, hessian, example_grads, surface, heavy, nesterov, lr, mu, columns,
                        state, k0, n, tol, bound, values)

    return {fn.__name__: numba.njit(**_OPTIONS)(fn) for fn in (advance, sweep, sweep_heavy_ball)}
