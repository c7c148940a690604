def f(items, d, x, w):
    a = f"{d["k"]}"
    b = f"{"\n".join(items)}"
    c = f"{f"{helper(x)}"}"
    e = f"{x # a comment
        }"
    g = f"{
        helper(
            d["k"])
    }"
    h = f"{x:>{helper(w)}}" "plain" f"{'\t'.join(items)}"
    i = f'{f'{f'{f'{helper(x)}'}'}'}'
    j = (f"start {helper(d["k"])!r:>10} "
         f"end {x}")
    return helper(a, b, c, e, g, h, i, j)


def helper(*args):
    return args[0]
