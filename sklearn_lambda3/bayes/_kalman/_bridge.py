"""The JAX side of the dynamic model's likelihood: the Numba Kalman filter as an XLA FFI call.

:func:`kalman_log_likelihood` is a JAX function with a custom VJP whose value and gradient come
from one call of the Numba kernel (:func:`~sklearn_lambda3.bayes._kalman._kernels.batched_loglik_and_grad`).
The compiled sampler calls it as a typed XLA FFI custom call on the CPU: the handler is a
Numba ``cfunc`` that reads XLA's call frame (the C structs of ``xla/ffi/api/c_api.h``), so
no Python runs per gradient (a ``jax.pure_callback`` would re-enter Python and its GIL from
XLA's thread at each of some 13,000 calls per fit).

The program passes only a token and the parameters: the token is the address (two 32-bit
halves) of a table of the series' host arrays kept alive here for the run (:func:`register`,
:func:`release`), so the program does not depend on the series (any length reuses it). The
handler is registered once per process, after a check that it reproduces the kernel on a
small series (:func:`ensure_registered`).
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._noise import NOISE_FLOOR
from ._kernels import N_PARAMS, batched_loglik_and_grad, columns_loglik_and_grad, likelihood_columns

TARGET = "sklearn_lambda3_kalman_loglik"

# The C structs of XLA's FFI (xla/ffi/api/c_api.h, API version 0.x), read as 8-byte words.
# XLA_FFI_CallFrame: struct_size, extension_start, api, ctx, stage, then XLA_FFI_Args
# (struct_size, extension_start, size, types, args) and XLA_FFI_Rets (the same).
_FRAME_WORDS = 15
_FRAME_EXTENSION, _FRAME_STAGE = 1, 4
_ARGS_SIZE, _ARGS_TYPES, _ARGS_POINTERS = 7, 8, 9
_RETS_SIZE, _RETS_TYPES, _RETS_POINTERS = 12, 13, 14
_MIN_FRAME_BYTES = 8 * _FRAME_WORDS
_STAGE_EXECUTE = 3
_EXTENSION_METADATA = 1
_BUFFER_TYPE = 1  # XLA_FFI_ArgType_BUFFER and XLA_FFI_RetType_BUFFER
# XLA_FFI_Buffer: struct_size, extension_start, dtype, data, rank, dims.
_BUFFER_WORDS = 6
_BUFFER_DTYPE, _BUFFER_DATA, _BUFFER_RANK, _BUFFER_DIMS = 2, 3, 4, 5
_F32, _S32 = 11, 4
# The FFI version the handler declares in its metadata (XLA_FFI_Api_Version: major, minor).
_API_MAJOR, _API_MINOR = 0, 1
# The host table of one run: addresses of y, the filter's columns and their layout (see
# likelihood_columns), prior_scale, change, tension and the scalars (level0_var, step_var,
# noise floor), then n, k and the columns' rows.
_TABLE_WORDS = 10


@intrinsic
def _pointer(typingctx, address):
    """The integer ``address`` as a void pointer."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(types.int64), codegen


@njit(cache=True)
def _words(address, count):
    return carray(_pointer(address), (count,), np.int64)


@njit(cache=True)
def _low(word):
    """The low 32 bits of a word: a C enum or int stored in an 8-byte slot."""
    return word & 0xFFFFFFFF


@njit(cache=True)
def _declare_metadata(extension):
    """Answer XLA's metadata query: the FFI version of the handler and no traits."""
    base = _words(extension, 4)
    metadata = base[3]
    version = _words(metadata, 4)
    version[1] = 24  # XLA_FFI_Api_Version: struct_size, extension_start, major, minor
    version[2] = 0
    numbers = carray(_pointer(metadata + 24), (2,), np.int32)
    numbers[0] = _API_MAJOR
    numbers[1] = _API_MINOR
    traits = carray(_pointer(metadata + 32), (1,), np.uint32)
    traits[0] = 0


@njit(cache=True)
def _buffer(pointers, types_address, index, dtype):
    """Address of buffer ``index`` of an argument or result list, or 0 if it is not a buffer of ``dtype``."""
    kinds = carray(_pointer(types_address), (index + 1,), np.int32)
    if kinds[index] != _BUFFER_TYPE:
        return 0
    buffer = _words(pointers[index], _BUFFER_WORDS)
    if buffer[0] < 8 * _BUFFER_WORDS or _low(buffer[_BUFFER_DTYPE]) != dtype:
        return 0
    return pointers[index]


@njit(cache=True)
def _elements(buffer):
    rank = buffer[_BUFFER_RANK]
    if rank <= 0:
        return 1
    dims = _words(buffer[_BUFFER_DIMS], rank)
    total = 1
    for i in range(rank):
        total *= dims[i]
    return total


@njit(cache=True)
def _execute(frame):
    """The kernel on the call's arguments: (params float32 (..., 3), token int32 (..., 2)) ->
    (values float32 (...), grads float32 (..., 3)). Leaves the results unwritten if the call
    frame is not the one it expects (the registration check then fails)."""
    if frame[_ARGS_SIZE] != 2 or frame[_RETS_SIZE] != 2:
        return
    args = _words(frame[_ARGS_POINTERS], 2)
    rets = _words(frame[_RETS_POINTERS], 2)
    found = (
        _buffer(args, frame[_ARGS_TYPES], 0, _F32),
        _buffer(args, frame[_ARGS_TYPES], 1, _S32),
        _buffer(rets, frame[_RETS_TYPES], 0, _F32),
        _buffer(rets, frame[_RETS_TYPES], 1, _F32),
    )
    if found[0] == 0 or found[1] == 0 or found[2] == 0 or found[3] == 0:
        return
    params = _words(found[0], _BUFFER_WORDS)
    token = _words(found[1], _BUFFER_WORDS)
    values = _words(found[2], _BUFFER_WORDS)
    grads = _words(found[3], _BUFFER_WORDS)
    batch = _elements(params) // N_PARAMS
    if _elements(token) < 2 or _elements(values) != batch or _elements(grads) != batch * N_PARAMS:
        return
    halves = carray(_pointer(token[_BUFFER_DATA]), (2,), np.uint32)
    table = _words(np.int64(halves[0]) | (np.int64(halves[1]) << 32), _TABLE_WORDS)
    n, k, rows = table[7], table[8], table[9]
    y = carray(_pointer(table[0]), (n,), np.float64)
    columns = carray(_pointer(table[1]), (rows, n), np.float64)
    layout = carray(_pointer(table[2]), (k + 2,), np.int64)
    prior_scale = carray(_pointer(table[3]), (k,), np.float64)
    change = carray(_pointer(table[4]), (n,), np.float64)
    tension = carray(_pointer(table[5]), (n,), np.float64)
    scalars = carray(_pointer(table[6]), (3,), np.float64)
    flat = carray(_pointer(params[_BUFFER_DATA]), (batch, N_PARAMS), np.float32)
    tau = np.empty(batch)
    sigma_base = np.empty(batch)
    sigma_scale = np.empty(batch)
    for c in range(batch):
        tau[c], sigma_base[c], sigma_scale[c] = flat[c, 0], flat[c, 1], flat[c, 2]
    value, grad = columns_loglik_and_grad(
        y,
        columns,
        layout,
        prior_scale,
        change,
        scalars[0],
        scalars[1],
        tension,
        tau,
        sigma_base,
        sigma_scale,
        scalars[2],
    )
    value_out = carray(_pointer(values[_BUFFER_DATA]), (batch,), np.float32)
    grad_out = carray(_pointer(grads[_BUFFER_DATA]), (batch, N_PARAMS), np.float32)
    for c in range(batch):
        value_out[c] = value[c]
        for j in range(N_PARAMS):
            grad_out[c, j] = grad[c, j]


@cfunc(types.voidptr(types.voidptr), cache=True)
def _handler(call_frame):
    """The XLA FFI handler (``XLA_FFI_Error* (XLA_FFI_CallFrame*)``); always returns success."""
    frame = carray(call_frame, (_FRAME_WORDS,), np.int64)
    if frame[_FRAME_EXTENSION] != 0:
        extension = _words(frame[_FRAME_EXTENSION], 2)
        if _low(extension[1]) == _EXTENSION_METADATA:
            _declare_metadata(frame[_FRAME_EXTENSION])
        return _pointer(0)
    if frame[0] >= _MIN_FRAME_BYTES and _low(frame[_FRAME_STAGE]) == _STAGE_EXECUTE:
        _execute(frame)
    return _pointer(0)


# Host-side data of the dynamic fits in progress, by token: the arrays and the table the
# handler reads, kept alive (and unmoved) until release.
_HOST_DATA = {}
_TOKENS = itertools.count()
_REGISTERED = []


def _keep(inputs):
    y, design, prior_scale, change, level0_var, step_var, tension = inputs
    y = np.ascontiguousarray(y, dtype=np.float64)
    design = np.ascontiguousarray(design, dtype=np.float64)
    columns, layout = likelihood_columns(y, design)
    arrays = [y, columns, layout] + [
        np.ascontiguousarray(value, dtype=np.float64)
        for value in (prior_scale, change, tension, [level0_var, step_var, NOISE_FLOOR])
    ]
    n, k = design.shape
    table = np.array([array.ctypes.data for array in arrays] + [n, k, arrays[1].shape[0]], dtype=np.int64)
    token = next(_TOKENS)
    _HOST_DATA[token] = (arrays, table)
    address = table.ctypes.data
    return token, np.array([address & 0xFFFFFFFF, address >> 32], dtype=np.uint32).view(np.int32)


def register(inputs):
    """Keep a series' Kalman inputs on the host for the run (registering the handler first).

    Returns ``(token, address)``: the key to :func:`release` and the int32 pair the program
    passes to :func:`kalman_log_likelihood`.
    """
    ensure_registered()
    return _keep(inputs)


def release(token):
    """Forget the run of ``token``."""
    _HOST_DATA.pop(token, None)


def _ffi_call(params, address):
    params = jnp.asarray(params, jnp.float32)
    shapes = (
        jax.ShapeDtypeStruct(params.shape[:-1], jnp.float32),
        jax.ShapeDtypeStruct(params.shape, jnp.float32),
    )
    # Under vmap over chains, "expand_dims" hands the handler one call with every chain.
    call = jax.ffi.ffi_call(TARGET, shapes, vmap_method="expand_dims")
    return call(params, jnp.asarray(address, jnp.int32))


@jax.custom_vjp
def kalman_log_likelihood(params, address):
    """Collapsed log-likelihood of the dynamic model at ``params = (τ, σ_base, σ_scale)``.

    ``address`` is the int32 pair of :func:`register`. Computed on the host CPU by the Numba
    kernel, in float64, which returns its analytic gradient with the value (the custom VJP
    uses it); the parameters cross in float32.
    """
    return _ffi_call(params, address)[0]


def _forward(params, address):
    value, grad = _ffi_call(params, address)
    # The gradient in the parameters' own dtype (float64 where a user enabled it globally).
    return value, grad.astype(jnp.result_type(params))


def _backward(grad, cotangent):
    return cotangent[..., None].astype(grad.dtype) * grad, None


kalman_log_likelihood.defvjp(_forward, _backward)


def ensure_registered():
    """Register the handler with XLA once per process, and check it on a small series.

    The check compares the FFI call (batched as under ``vmap``) with the kernel called
    directly; a mismatch (a jaxlib whose call frame the handler does not read) is a
    RuntimeError that names ``kalman="jax"``, which does not use it. Call it on the host,
    before tracing a program that uses :func:`kalman_log_likelihood`.
    """
    if _REGISTERED:
        return
    jax.ffi.register_ffi_target(TARGET, jax.ffi.pycapsule(_handler.address), platform="cpu")
    rng = np.random.default_rng(0)
    inputs = (
        rng.standard_normal(7),
        rng.standard_normal((7, 2)),
        np.ones(2),
        np.eye(7)[3],
        4.0,
        25.0,
        np.abs(rng.standard_normal(7)),
    )
    params = np.array([[0.3, 0.5, 0.1], [0.2, 0.9, 0.0]], dtype=np.float32)
    token, address = _keep(inputs)
    try:
        check = jax.jit(jax.vmap(jax.value_and_grad(kalman_log_likelihood), (0, None)))
        value, grad = jax.device_get(check(jax.device_put(params, jax.devices("cpu")[0]), address))
    finally:
        release(token)
    wide = params.astype(np.float64)
    expected, expected_grad = batched_loglik_and_grad(
        *inputs, wide[:, 0].copy(), wide[:, 1].copy(), wide[:, 2].copy(), NOISE_FLOOR
    )
    # The handler hands back the kernel's float64 results rounded to float32, bit for bit.
    if not (
        np.array_equal(value, expected.astype(np.float32))
        and np.array_equal(grad, expected_grad.astype(np.float32))
    ):
        raise RuntimeError(
            f"the dynamic model's Numba Kalman filter could not be called from XLA (jax "
            f"{jax.__version__}): its FFI handler returned {value} where the kernel gives "
            f"{expected}. Use Lambda3DynamicRegressor(kalman='jax')."
        )
    _REGISTERED.append(True)
