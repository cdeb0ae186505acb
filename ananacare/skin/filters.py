"""The few image filters skin analysis needs, in numpy: SciPy's ndimage behaviour without SciPy.

Each function does what its `scipy.ndimage` namesake does with the arguments the concerns pass
(2-D arrays, SciPy's defaults otherwise), and tests/test_skin_filters.py checks it against SciPy:
- gaussian_filter: truncate 4.0, mode "reflect" (SciPy's reflect repeats the edge pixel: numpy's
  "symmetric" pad); float32 in, float32 out, like SciPy; equal within float32 rounding.
- maximum_filter: a size x size window, mode "reflect"; equal exactly.
- label: 4-connectivity (SciPy's default cross), labels numbered in raster order of each
  component's first pixel, as SciPy numbers them; equal exactly.
- binary_fill_holes, binary_opening: the default cross, one iteration, outside the image counted
  as background; equal exactly.
Component sizes are np.bincount(labels.ravel()) (what sum_labels of ones gave).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _gaussian_kernel(sigma, truncate=4.0):
    """SciPy's taps: exp(-x^2 / 2 sigma^2) for |x| <= int(truncate sigma + 0.5), summing to 1."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 / float(sigma) ** 2 * x ** 2)
    return taps / taps.sum()


def gaussian_filter(values, sigma):
    """Gaussian blur of a 2-D array, as scipy.ndimage.gaussian_filter(values, sigma).

    Separable: rows then columns. Float input keeps its dtype (SciPy's too); anything else is
    blurred as float64. A sigma of 0 leaves the values as they are (SciPy's too).
    """
    values = np.asarray(values)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    if sigma <= 1e-15:
        return values.copy()
    taps = _gaussian_kernel(sigma)
    return _correlate(_correlate(values, taps, 0)[0], taps, 1)[0]


def _correlate(values, bank, axis):
    """`values` (2-D) correlated along an axis with each column of `bank` (taps x kernels, odd length),
    edges reflected: a list of one array per kernel.

    Each output row is the window of input rows under it times the taps: a matrix-vector product
    over a sliding-window view (BLAS, no copy of the windows). Along the rows' own axis (1) the
    array is transposed first, so the windows are always whole rows.
    """
    if axis == 1:
        return [np.ascontiguousarray(out.T) for out in _correlate(np.ascontiguousarray(values.T), bank, 0)]
    bank = np.asarray(bank, dtype=values.dtype).reshape(len(bank), -1)
    radius = len(bank) // 2
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="symmetric")
    windows = sliding_window_view(padded, len(bank), axis=0)
    # one product per kernel, each with a contiguous column (several columns at once are not BLAS)
    return [(windows @ np.ascontiguousarray(bank[:, [kernel]]))[..., 0] for kernel in range(bank.shape[1])]


def _derivative_kernels(sigma, truncate=3.5):
    """Sampled Gaussian and its first and second derivatives, normalised so that they give exactly
    1, x and x^2 / 2 their derivatives' values (sum 1; sum -x g' = 1; sum 0 and sum x^2 g'' / 2 = 1)."""
    radius = max(1, int(truncate * float(sigma) + 0.5))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * x ** 2 / sigma ** 2)
    g /= g.sum()
    first = -x / sigma ** 2 * g
    first /= -(x * first).sum()
    second = (x ** 2 / sigma ** 4 - 1 / sigma ** 2) * g
    second -= second.mean()
    second /= (x ** 2 * second).sum() / 2
    return g, first, second


def derivatives(values, sigma):
    """(d/dy, d/dx, d2/dy2, d2/dxdy, d2/dx2) of the Gaussian-smoothed values, by Gaussian derivative
    kernels (exact to the sampling: equally strong along the axes and the diagonals, unlike
    differences of differences); like scipy.ndimage.gaussian_filter(values, sigma, order=...), with
    kernels truncated at 3.5 sigma and normalised to be exact on polynomials up to the second order."""
    values = np.asarray(values, dtype=np.float32)
    g, first, second = (taps[::-1].copy() for taps in _derivative_kernels(sigma))  # correlation
    smooth_x, first_x, second_x = _correlate(values, np.stack([g, first, second], axis=1), 1)
    first_y, second_y = _correlate(smooth_x, np.stack([first, second], axis=1), 0)
    smooth_y, cross = _correlate(first_x, np.stack([g, first], axis=1), 0)
    return first_y, smooth_y, second_y, cross, _correlate(second_x, g, 0)[0]


def bounding_box(mask):
    """(top, bottom, left, right) of a 2-D mask's True pixels, bottom and right inclusive; None when it
    has none (from its rows' and columns' any(): no list of every pixel)."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(rows[-1]), int(columns[0]), int(columns[-1])


def maximum_filter(values, size):
    """The maximum over each size x size window (size odd), as scipy.ndimage.maximum_filter."""
    if size % 2 == 0:
        raise ValueError("maximum_filter: size must be odd")
    radius = size // 2
    out = np.asarray(values)
    for axis in (0, 1):
        moved = np.moveaxis(out, axis, 0)
        n = moved.shape[0]
        padded = np.pad(moved, [(radius, radius), (0, 0)], mode="symmetric")
        running = padded[:n].copy()
        for k in range(1, size):
            np.maximum(running, padded[k:k + n], out=running)
        out = np.moveaxis(running, 0, axis)
    return out


def _components(count, a, b):
    """Each node's component, as its smallest node index: union-find on the edges (a, b), vectorised.

    Every round hooks the larger root of each edge onto the smaller one, then compresses every path
    to its root and drops the edges now inside one tree. Hooking only towards smaller indices makes
    no cycle, and a component's smallest node is never hooked, so it ends as the root.
    """
    parent = np.arange(count)
    while len(a):
        ra, rb = parent[a], parent[b]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        keep = parent[a] != parent[b]
        a, b = a[keep], b[keep]
    return parent


def label(mask):
    """(labels, count) of the 4-connected components of a 2-D boolean mask, as scipy.ndimage.label.

    The nodes are the mask's horizontal runs, numbered in raster order; two runs in adjacent rows
    are joined where they share a column (one edge per such pair: the first column of their
    overlap). Components are numbered 1..count in raster order of their first pixel; background 0.
    """
    mask = np.asarray(mask, dtype=bool)
    starts = mask.copy()
    starts[:, 1:] &= ~mask[:, :-1]  # a run starts at a True pixel with no True pixel to its left
    run = np.cumsum(starts, dtype=np.int32).reshape(mask.shape)  # each pixel's run (or the last one before it)
    runs = int(run[-1, -1])
    run *= mask  # background: node 0
    both = mask[1:] & mask[:-1]
    overlap = both.copy()
    overlap[:, 1:] &= ~both[:, :-1]
    ys, xs = np.nonzero(overlap)
    root = _components(runs + 1, run[ys, xs], run[ys + 1, xs])
    number = np.cumsum(root == np.arange(len(root)), dtype=np.int32) - 1  # a root is its component's first run
    return number[root][run], int(number[-1])


def binary_fill_holes(mask):
    """The mask with every background region that does not reach the image's edge (4-connected)
    filled, as scipy.ndimage.binary_fill_holes."""
    mask = np.asarray(mask, dtype=bool)
    background, count = label(~mask)
    border = np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]])
    outside = np.zeros(count + 1, dtype=bool)
    outside[border] = True
    outside[0] = False
    return ~outside[background]


def _cross_neighbours(mask, fill):
    """(centre, up, down, left, right) views of the mask padded by one pixel of `fill`."""
    padded = np.pad(mask, 1, constant_values=fill)
    return (padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:])


def binary_opening(mask):
    """Erosion then dilation by the 3 x 3 cross, as scipy.ndimage.binary_opening(mask): a pixel
    stays where a whole cross of True fits over it (outside the image counts as False)."""
    centre, up, down, left, right = _cross_neighbours(np.asarray(mask, dtype=bool), False)
    eroded = centre & up & down & left & right
    centre, up, down, left, right = _cross_neighbours(eroded, False)
    return centre | up | down | left | right
