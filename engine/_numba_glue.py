"""What only numba needs: compile every ``@twin`` and the kernel's entry points (imported by ``engine.accel``
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


def _on_surface_from(i: int):
    """The compiled ``kernel.on_surface`` from table row ``i`` on: is it row i's kind? then its loop, else the rest."""
    _, value_and_grad, hessian, example_grads = kernel.SURFACE_TWINS[i]
    if i == len(kernel.SURFACE_TWINS) - 1:
        def last(loop, surface, args):
            return loop(value_and_grad, hessian, example_grads, surface, *args)
        return last
    rest = register_jitable(_on_surface_from(i + 1))

    def impl(loop, surface, args):
        if surface[0] == i:
            return loop(value_and_grad, hessian, example_grads, surface, *args)
        return rest(loop, surface, args)
    return impl


@overload(kernel.on_surface)
def _on_surface_compiled(loop, surface, args):
    return _on_surface_from(0)


_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")


def compile_kernel() -> dict:
    """Compile the twins and the kernel's loops; returns the entry points by name, ready to call."""
    for fn in twins.TWINS:
        if fn is not twins.call_loop:
            register_jitable(fn)
    for fn in kernel.COMPILED:
        if fn not in kernel.ENTRY_POINTS and fn is not kernel.on_surface:
            register_jitable(fn)
    return {fn.__name__: numba.njit(**_OPTIONS)(fn) for fn in kernel.ENTRY_POINTS}
