"""RNN, LSTM and GRU forward and backward passes in plain NumPy, to check by hand.

The signatures are the ones learners know from CS231n: each forward function
returns its output and a cache, and the matching backward function takes the
upstream gradient and that cache. LSTM gates are ordered i, f, o, g in the
weights; `keras_lstm_weights` reorders them for keras.layers.LSTM. GRU gates are
ordered r, z, g (PyTorch's order) with Keras's default reset_after=True, a bias of
two rows; `keras_gru_weights` reorders them for keras.layers.GRU.

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
            times, letter = _split(symbol)
            if letter is None:  # a fixed size, such as the 2 rows of a GRU's bias
                good = good and actual == times
                continue
            if letter not in sizes and actual % times == 0:
                sizes[letter] = actual // times
            good = good and sizes.get(letter, -1) * times == actual
    if not good:
        expected = "(" + ", ".join(pattern) + ("," if len(pattern) == 1 else "") + ")"
        known = [_size(symbol, sizes) for symbol in pattern]
        if any(isinstance(size, int) and not symbol.isdigit() for size, symbol in zip(known, pattern)):
            expected += " = " + _tuple(known)
        raise ValueError(f"{name} must have shape {expected}, got {_tuple(array.shape)}")
    return array


def _split(symbol):
    """Return (multiple, letter) for a shape symbol: "4H" -> (4, "H"), "N" -> (1, "N"), "2" -> (2, None)."""
    if symbol.isdigit():
        return int(symbol), None
    return (int(symbol[0]), symbol[1:]) if symbol[0].isdigit() else (1, symbol)


def _size(symbol, sizes):
    times, letter = _split(symbol)
    if letter is None:
        return times
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
        dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = _lstm_step_back(dh[:, t, :] + dprev_h, dprev_c, steps[t])
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


# ------------------------------------------------------------------------ GRU
#
# Gate blocks are ordered r, z, g (reset, update, candidate): PyTorch's and cuDNN's order. The reset
# gate acts after the recurrent product, as in keras.layers.GRU(reset_after=True), Keras's default:
# g = tanh(x Wx_g + b[0]_g + r * (prev_h Wh_g + b[1]_g)), so the bias has two rows, b[0] on the input
# side and b[1] on the recurrent side, like Keras's. next_h = z * prev_h + (1 - z) * g.


def _gru_step(x, prev_h, Wx, Wh, b):
    H = prev_h.shape[1]
    from_x = x @ Wx + b[0]  # (N, 3H): the input side of gate blocks r, z, g
    from_h = prev_h @ Wh + b[1]  # (N, 3H): the recurrent side
    r = _sigmoid(from_x[:, :H] + from_h[:, :H])  # (N, H)
    z = _sigmoid(from_x[:, H : 2 * H] + from_h[:, H : 2 * H])
    g = np.tanh(from_x[:, 2 * H :] + r * from_h[:, 2 * H :])
    next_h = z * prev_h + (1.0 - z) * g  # (N, H)
    return next_h, (x, prev_h, Wx, Wh, r, z, g, from_h[:, 2 * H :])


def _gru_step_back(dnext_h, cache):
    x, prev_h, Wx, Wh, r, z, g, from_h_g = cache
    dg = dnext_h * (1.0 - z) * (1.0 - g**2)  # (N, H): before the tanh
    dr = dg * from_h_g * r * (1.0 - r)
    dz = dnext_h * (prev_h - g) * z * (1.0 - z)
    dfrom_x = np.concatenate([dr, dz, dg], axis=1)  # (N, 3H)
    dfrom_h = np.concatenate([dr, dz, dg * r], axis=1)  # (N, 3H): r scales the candidate's recurrent part
    dprev_h = dnext_h * z + dfrom_h @ Wh.T  # (N, H): the direct path through z, and through the gates
    db = np.stack([dfrom_x.sum(axis=0), dfrom_h.sum(axis=0)])  # (2, 3H)
    return dfrom_x @ Wx.T, dprev_h, x.T @ dfrom_x, prev_h.T @ dfrom_h, db


def _gru_weights(Wx, Wh, b, sizes):
    Wx = _array("Wx", Wx, ("D", "3H"), sizes)
    Wh = _array("Wh", Wh, ("H", "3H"), sizes)
    return Wx, Wh, _array("b", b, ("2", "3H"), sizes)


def gru_step_forward(x, prev_h, Wx, Wh, b):
    """Return (next_h, cache) for one GRU step (gates r, z, g; b of shape (2, 3H)); next_h is (N, H)."""
    sizes = {}
    x = _array("x", x, ("N", "D"), sizes)
    prev_h = _array("prev_h", prev_h, ("N", "H"), sizes)
    return _gru_step(x, prev_h, *_gru_weights(Wx, Wh, b, sizes))


def gru_step_backward(dnext_h, cache):
    """Return (dx, dprev_h, dWx, dWh, db) for one GRU step, given dnext_h (N, H); db is (2, 3H)."""
    cache = _cache(cache, 8, "gru_step_forward")
    dnext_h = _array("dnext_h", dnext_h, ("N", "H"), {"N": cache[1].shape[0], "H": cache[1].shape[1]})
    return _gru_step_back(dnext_h, cache)


def gru_forward(x, h0, Wx, Wh, b):
    """Return (h, cache): the hidden states of every GRU step, shape (N, T, H)."""
    sizes = {}
    x = _array("x", x, ("N", "T", "D"), sizes)
    h0 = _array("h0", h0, ("N", "H"), sizes)
    Wx, Wh, b = _gru_weights(Wx, Wh, b, sizes)
    N, T, H = sizes["N"], sizes["T"], sizes["H"]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))  # (N, T, H)
    steps = []
    prev_h = h0
    for t in range(T):
        prev_h, step = _gru_step(x[:, t, :], prev_h, Wx, Wh, b)  # (N, H)
        h[:, t, :] = prev_h
        steps.append(step)
    return h, (tuple(steps), (N, T, sizes["D"], H))


def gru_backward(dh, cache):
    """Return (dx, dh0, dWx, dWh, db) given dh (N, T, H), the gradient of every step's h."""
    steps, (N, T, D, H) = _cache(cache, 2, "gru_forward", step_length=8)
    dh = _array("dh", dh, ("N", "T", "H"), {"N": N, "T": T, "H": H})
    dtype = np.result_type(dh, *steps[0][:2]) if steps else dh.dtype
    dx = np.zeros((N, T, D), dtype=dtype)  # (N, T, D)
    dprev_h = np.zeros((N, H), dtype=dtype)  # (N, H)
    dWx, dWh, db = np.zeros((D, 3 * H), dtype), np.zeros((H, 3 * H), dtype), np.zeros((2, 3 * H), dtype)
    for t in reversed(range(T)):
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = _gru_step_back(dh[:, t, :] + dprev_h, steps[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Keras's GRU orders the gate blocks z, r, h (h is this module's g); swapping the first two converts
# either way. Keras's bias for reset_after=True has the same two rows as this module's.
_SWAP_FIRST_TWO_GATES = (1, 0, 2)


def _reorder_gru(name, value, pattern, sizes):
    array = _array(name, value, pattern, sizes)
    H = sizes["H"]
    return np.concatenate([array[..., k * H : (k + 1) * H] for k in _SWAP_FIRST_TWO_GATES], axis=-1)


def keras_gru_weights(Wx, Wh, b):
    """Return [kernel, recurrent_kernel, bias] for keras.layers.GRU(reset_after=True)'s set_weights (gates z, r, h)."""
    sizes = {}
    b = _reorder_gru("b", b, ("2", "3H"), sizes)
    return [_reorder_gru("Wx", Wx, ("D", "3H"), sizes), _reorder_gru("Wh", Wh, ("H", "3H"), sizes), b]


def scratch_gru_weights(kernel, recurrent_kernel, bias):
    """Return (Wx, Wh, b) in this module's gate order r, z, g from keras.layers.GRU(reset_after=True)'s weights."""
    sizes = {}
    b = _reorder_gru("bias", bias, ("2", "3H"), sizes)
    Wx = _reorder_gru("kernel", kernel, ("D", "3H"), sizes)
    return Wx, _reorder_gru("recurrent_kernel", recurrent_kernel, ("H", "3H"), sizes), b


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
