"""RNN and LSTM forward and backward passes in plain NumPy, to check by hand.

The signatures are the ones learners know from CS231n: each forward function
returns its output and a cache, and the matching backward function takes the
upstream gradient and that cache. LSTM gates are ordered i, f, o, g in the
weights; `keras_lstm_weights` reorders them for keras.layers.LSTM.

`numerical_gradient` and `rel_error` are the reference the backward passes are
tested against. This module imports NumPy only, never a framework.
"""

import numpy as np

# ---------------------------------------------------------------- shape checks


def _array(name, value, pattern, sizes):
    """Return value as a float array after checking its shape against pattern, e.g. ("N", "4H")."""
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise ValueError(f"{name} must be a real number array, got dtype {array.dtype}")
        array = array.astype(np.float64)
    good = array.ndim == len(pattern)
    if good:
        for symbol, actual in zip(pattern, array.shape):
            times, letter = (4, symbol[1:]) if symbol.startswith("4") else (1, symbol)
            if letter not in sizes and actual % times == 0:
                sizes[letter] = actual // times
            good = good and sizes.get(letter, -1) * times == actual
    if not good:
        expected = "(" + ", ".join(pattern) + ("," if len(pattern) == 1 else "") + ")"
        known = [_size(symbol, sizes) for symbol in pattern]
        if any(isinstance(size, int) for size in known):
            expected += " = " + _tuple(known)
        raise ValueError(f"{name} must have shape {expected}, got {_tuple(array.shape)}")
    return array


def _size(symbol, sizes):
    times, letter = (4, symbol[1:]) if symbol.startswith("4") else (1, symbol)
    return times * sizes[letter] if letter in sizes else symbol


def _tuple(items):
    return "(" + ", ".join(str(item) for item in items) + ("," if len(items) == 1 else "") + ")"


def _cache(cache, length, forward, step_length=None):
    good = isinstance(cache, tuple) and len(cache) == length
    if good and step_length is not None:  # a sequence cache: (step caches, (N, T, D, H))
        good = all(isinstance(step, tuple) and len(step) == step_length for step in cache[0])
    if not good:
        raise ValueError(f"cache must be the cache that {forward} returned, got {type(cache).__name__}")
    return cache


def _sigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows, unlike exp(-a) for very negative a
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ------------------------------------------------------------------------ RNN


def _rnn_step(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)  # (N, H)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def _rnn_step_back(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1.0 - next_h**2)  # (N, H): through tanh
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """Return (next_h, cache): next_h = tanh(x Wx + prev_h Wh + b), shape (N, H)."""
    sizes = {}
    x = _array("x", x, ("N", "D"), sizes)
    prev_h = _array("prev_h", prev_h, ("N", "H"), sizes)
    Wx = _array("Wx", Wx, ("D", "H"), sizes)
    Wh = _array("Wh", Wh, ("H", "H"), sizes)
    b = _array("b", b, ("H",), sizes)
    return _rnn_step(x, prev_h, Wx, Wh, b)


def rnn_step_backward(dnext_h, cache):
    """Return (dx, dprev_h, dWx, dWh, db) for one RNN step, given dnext_h (N, H)."""
    cache = _cache(cache, 5, "rnn_step_forward")
    dnext_h = _array("dnext_h", dnext_h, ("N", "H"), {"N": cache[4].shape[0], "H": cache[4].shape[1]})
    return _rnn_step_back(dnext_h, cache)


def rnn_forward(x, h0, Wx, Wh, b):
    """Return (h, cache): the hidden states of every step, shape (N, T, H)."""
    sizes = {}
    x = _array("x", x, ("N", "T", "D"), sizes)
    h0 = _array("h0", h0, ("N", "H"), sizes)
    Wx = _array("Wx", Wx, ("D", "H"), sizes)
    Wh = _array("Wh", Wh, ("H", "H"), sizes)
    b = _array("b", b, ("H",), sizes)
    N, T, H = sizes["N"], sizes["T"], sizes["H"]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))  # (N, T, H)
    steps = []
    prev_h = h0
    for t in range(T):
        prev_h, step = _rnn_step(x[:, t, :], prev_h, Wx, Wh, b)  # (N, H)
        h[:, t, :] = prev_h
        steps.append(step)
    return h, (tuple(steps), (N, T, sizes["D"], H))


def rnn_backward(dh, cache):
    """Return (dx, dh0, dWx, dWh, db) given dh (N, T, H), the gradient of every step's h."""
    steps, (N, T, D, H) = _cache(cache, 2, "rnn_forward", step_length=5)
    dh = _array("dh", dh, ("N", "T", "H"), {"N": N, "T": T, "H": H})
    dtype = np.result_type(dh, *steps[0][:2]) if steps else dh.dtype
    dx = np.zeros((N, T, D), dtype=dtype)  # (N, T, D)
    dprev_h = np.zeros((N, H), dtype=dtype)  # (N, H)
    dWx, dWh, db = np.zeros((D, H), dtype), np.zeros((H, H), dtype), np.zeros(H, dtype)
    for t in reversed(range(T)):
        # h_t feeds both the output at t and the next step, so its gradients add.
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = _rnn_step_back(dh[:, t, :] + dprev_h, steps[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# ----------------------------------------------------------------------- LSTM


def _lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H): gate blocks i, f, o, g
    i = _sigmoid(a[:, :H])  # (N, H)
    f = _sigmoid(a[:, H : 2 * H])
    o = _sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g  # (N, H)
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c  # (N, H)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def _lstm_step_back(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c**2)  # (N, H): next_c feeds next_h too
    da = np.concatenate(  # (N, 4H)
        [
            dc * g * i * (1.0 - i),
            dc * prev_c * f * (1.0 - f),
            dnext_h * tanh_c * o * (1.0 - o),
            dc * i * (1.0 - g**2),
        ],
        axis=1,
    )
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """Return (next_h, next_c, cache) for one LSTM step; next_h and next_c are (N, H)."""
    sizes = {}
    x = _array("x", x, ("N", "D"), sizes)
    prev_h = _array("prev_h", prev_h, ("N", "H"), sizes)
    prev_c = _array("prev_c", prev_c, ("N", "H"), sizes)
    Wx = _array("Wx", Wx, ("D", "4H"), sizes)
    Wh = _array("Wh", Wh, ("H", "4H"), sizes)
    b = _array("b", b, ("4H",), sizes)
    return _lstm_step(x, prev_h, prev_c, Wx, Wh, b)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Return (dx, dprev_h, dprev_c, dWx, dWh, db) for one LSTM step."""
    cache = _cache(cache, 10, "lstm_step_forward")
    sizes = {"N": cache[1].shape[0], "H": cache[1].shape[1]}
    dnext_h = _array("dnext_h", dnext_h, ("N", "H"), sizes)
    dnext_c = _array("dnext_c", dnext_c, ("N", "H"), sizes)
    return _lstm_step_back(dnext_h, dnext_c, cache)


def lstm_forward(x, h0, Wx, Wh, b):
    """Return (h, cache): the hidden states of every step, shape (N, T, H), starting from c0 = 0."""
    sizes = {}
    x = _array("x", x, ("N", "T", "D"), sizes)
    h0 = _array("h0", h0, ("N", "H"), sizes)
    Wx = _array("Wx", Wx, ("D", "4H"), sizes)
    Wh = _array("Wh", Wh, ("H", "4H"), sizes)
    b = _array("b", b, ("4H",), sizes)
    N, T, H = sizes["N"], sizes["T"], sizes["H"]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))  # (N, T, H)
    steps = []
    prev_h, prev_c = h0, np.zeros_like(h0)  # (N, H) each
    for t in range(T):
        prev_h, prev_c, step = _lstm_step(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        steps.append(step)
    return h, (tuple(steps), (N, T, sizes["D"], H))


def lstm_backward(dh, cache):
    """Return (dx, dh0, dWx, dWh, db) given dh (N, T, H), the gradient of every step's h."""
    steps, (N, T, D, H) = _cache(cache, 2, "lstm_forward", step_length=10)
    dh = _array("dh", dh, ("N", "T", "H"), {"N": N, "T": T, "H": H})
    dtype = np.result_type(dh, *steps[0][:2]) if steps else dh.dtype
    dx = np.zeros((N, T, D), dtype=dtype)  # (N, T, D)
    dprev_h = np.zeros((N, H), dtype=dtype)  # (N, H)
    dprev_c = np.zeros((N, H), dtype=dtype)  # (N, H)
    dWx, dWh, db = np.zeros((D, 4 * H), dtype), np.zeros((H, 4 * H), dtype), np.zeros(4 * H, dtype)
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = _lstm_step_back(
            dh[:, t, :] + dprev_h, dprev_c, steps[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Keras's LSTM orders the gate blocks i, f, c, o; this module orders them
# i, f, o, g (g is Keras's c). Swapping the last two blocks converts either way.
_SWAP_LAST_TWO_GATES = (0, 1, 3, 2)


def _reorder(name, value, pattern, sizes):
    array = _array(name, value, pattern, sizes)
    H = sizes["H"]
    blocks = [array[..., k * H : (k + 1) * H] for k in _SWAP_LAST_TWO_GATES]
    return np.concatenate(blocks, axis=-1)


def keras_lstm_weights(Wx, Wh, b):
    """Return [kernel, recurrent_kernel, bias] for keras.layers.LSTM's set_weights (gates i, f, c, o)."""
    sizes = {}
    b = _reorder("b", b, ("4H",), sizes)
    return [_reorder("Wx", Wx, ("D", "4H"), sizes), _reorder("Wh", Wh, ("H", "4H"), sizes), b]


def scratch_lstm_weights(kernel, recurrent_kernel, bias):
    """Return (Wx, Wh, b) in this module's gate order i, f, o, g from keras.layers.LSTM's weights."""
    sizes = {}
    b = _reorder("bias", bias, ("4H",), sizes)
    Wx = _reorder("kernel", kernel, ("D", "4H"), sizes)
    return Wx, _reorder("recurrent_kernel", recurrent_kernel, ("H", "4H"), sizes), b


# ------------------------------------------------------------- gradient check


def numerical_gradient(f, x, df, h=1e-5):
    """Return the centred-difference gradient of sum(f(x) * df) with respect to x, shape of x."""
    if not callable(f):
        raise ValueError(f"f must be a function of x, got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            "x must be a float NumPy array (it is changed in place and restored), "
            f"got {type(x).__name__}{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}"
        )
    if not np.isscalar(h) or not h > 0:
        raise ValueError(f"h must be a positive step size such as 1e-5, got {h!r}")
    df = np.asarray(df, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        try:
            x[index] = old + h
            plus = np.array(f(x), dtype=np.float64)  # a copy: f may return a view of x
            x[index] = old - h
            minus = np.array(f(x), dtype=np.float64)
        finally:
            x[index] = old
        if plus.shape != df.shape:
            raise ValueError(f"df must have the shape of f(x) = {_tuple(plus.shape)}, got {_tuple(df.shape)}")
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def rel_error(x, y):
    """Return max |x - y| / max(1e-8, |x| + |y|) over the elements, as a float."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"y must have the shape of x = {_tuple(x.shape)}, got {_tuple(y.shape)}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
