#!/usr/bin/python3
"""torch_oracle.py -- PyTorch's verdict on the dump of test_torch_oracle.c.

Rebuilds the composite network (conv2d, max-pooling with indices and
unpooling, soft-max pooling with soft-argmax and a learnable temperature,
L2 group pooling, transposed conv, nearest and bilinear upsampling, nn.LSTM
and nn.LSTMCell) from the dumped weights in float64 with torch's own modules
and functions, and compares every output, the switches and every gradient
to 1e-4 relative (max abs error over max abs value of each tensor).

Usage: torch_oracle.py DUMP. Exit 0 when all match or when torch is absent
(then it prints a line starting with SKIP), 1 on a mismatch, 2 on bad input.
"""
import sys

TOL = 1e-4


def read_dump(path):
    """Returns {name: (kind, shape, values)} from the dump's text format:
    a header line 'kind name ndim d0 d1 ...' then one line of values."""
    out = {}
    with open(path) as f:
        lines = f.read().splitlines()
    for i in range(0, len(lines), 2):
        head = lines[i].split()
        kind, name, nd = head[0], head[1], int(head[2])
        shape = tuple(int(d) for d in head[3:3 + nd])
        conv = int if kind == "ints" else float
        out[name] = (kind, shape, [conv(v) for v in lines[i + 1].split()])
    return out


def main():
    if len(sys.argv) != 2:
        print("usage: torch_oracle.py DUMP")
        return 2
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("SKIP: PyTorch is not installed (Debian package python3-torch)")
        return 0
    torch.set_default_dtype(torch.float64)
    d = read_dump(sys.argv[1])

    def t(name, grad=False):
        _, shape, v = d[name]
        x = torch.tensor(v, dtype=torch.float64).reshape(shape)
        return x.requires_grad_(grad)

    leaves = {k: t(k, True) for k, (kind, _, _) in d.items() if kind == "leaf"}
    L = leaves
    n = L["x"].shape[0]
    hid = L["h0"].shape[1]

    outs = {}
    outs["c1"] = F.conv2d(L["x"], L["w1"], L["b1"], stride=1, padding=1)
    outs["p1"], idx = F.max_pool2d(torch.tanh(outs["c1"]), 2, 2, return_indices=True)
    outs["c2"] = F.conv2d(outs["p1"], L["w2"], L["b2"], stride=(2, 1), padding=(1, 0))

    # soft-max pooling over 2x2 windows, stride 1: p = softmax(beta x) per
    # window; value sum p x, soft-argmax sum p kx, sum p ky
    c2 = outs["c2"]
    N, C, H2, W2 = c2.shape
    kh = kw = 2
    ho, wo = H2 - kh + 1, W2 - kw + 1
    win = F.unfold(c2, kernel_size=(kh, kw), stride=1).reshape(N, C, kh * kw, ho * wo)
    p = torch.softmax(L["beta"][0] * win, dim=2)
    taps = torch.arange(kh * kw, dtype=torch.float64)
    kx = (taps % kw).reshape(1, 1, -1, 1)
    ky = torch.div(taps, kw, rounding_mode="floor").reshape(1, 1, -1, 1)
    outs["sp"] = (p * win).sum(2).reshape(N, C, ho, wo)
    outs["px"] = (p * kx).sum(2).reshape(N, C, ho, wo)
    outs["py"] = (p * ky).sum(2).reshape(N, C, ho, wo)

    # L2 pooling: 8 channels on a 2x4 grid, 2x2 groups every (1, 2) cells
    grid_h, grid_w, gh, gw, sh, sw, eps = 2, 4, 2, 2, 1, 2, 1e-3
    groups = []
    for a in range((grid_h - gh) // sh + 1):
        for b in range((grid_w - gw) // sw + 1):
            chans = [(a * sh + i) * grid_w + b * sw + j for i in range(gh) for j in range(gw)]
            groups.append(torch.sqrt(eps + (c2[:, chans] ** 2).sum(1)))
    outs["l2"] = torch.stack(groups, 1)

    outs["u"] = F.max_unpool2d(outs["p1"], idx, 2, 2, output_size=L["x"].shape[2:])
    outs["t"] = F.conv_transpose2d(outs["u"], L["wt"], L["bt"], stride=2, padding=1,
                                   output_padding=1)
    outs["upn"] = F.interpolate(c2, scale_factor=(2, 3), mode="nearest")
    outs["upb"] = F.interpolate(c2, scale_factor=(3, 2), mode="bilinear", align_corners=False)

    lstm = torch.nn.LSTM(32, hid)
    cell = torch.nn.LSTMCell(18, hid)
    for mod, pre, names in ((lstm, "l1_", ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                           "bias_hh_l0")),
                            (cell, "l2_", ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))):
        for attr, ours in zip(names, ("w_ih", "w_hh", "b_ih", "b_hh")):
            # the module's parameter becomes our leaf, where its grad lands
            L[pre + ours] = torch.nn.Parameter(L[pre + ours].detach().clone())
            setattr(mod, attr, L[pre + ours])
    seq = torch.stack([outs["sp"].reshape(n, 32), outs["px"].reshape(n, 32),
                       outs["py"].reshape(n, 32)], 0)
    outs["hs"], (hl, cl) = lstm(seq, (L["h0"][None], L["c0"][None]))
    outs["h_last"], outs["c_last"] = hl[0], cl[0]
    outs["cell_h"], outs["cell_c"] = cell(outs["l2"].reshape(n, 18),
                                          (outs["h_last"], outs["c_last"]))

    loss = sum((t("r_" + k) * o).sum() for k, o in outs.items())
    loss.backward()
    outs["loss"] = loss

    worst, bad = 0.0, []

    def compare(name, ours, ref):
        nonlocal worst
        ref = ref.detach().reshape(-1)
        ours = torch.tensor(ours, dtype=torch.float64)
        if ours.numel() != ref.numel():
            bad.append(f"{name}: {ours.numel()} values, torch has {ref.numel()}")
            return
        scale = ref.abs().max().item()
        err = (ours - ref).abs().max().item() / (scale if scale > 0 else 1.0)
        worst = max(worst, err)
        status = "ok" if err <= TOL else "MISMATCH"
        print(f"{name:10s} {ref.numel():6d} values  rel err {err:.2e}  {status}")
        if err > TOL:
            bad.append(f"{name}: relative error {err:.3e} > {TOL}")

    for k, o in outs.items():
        compare(k, d[k][2], o)
    for k, x in leaves.items():
        compare("d_" + k, d["d_" + k][2], x.grad)
    sw_ours = torch.tensor(d["switches"][2])
    if not torch.equal(sw_ours, idx.reshape(-1)):
        bad.append("switches differ from max_pool2d's indices")
    else:
        print(f"switches   {sw_ours.numel():6d} values  equal to max_pool2d's indices")
    if bad:
        print("FAIL: " + "; ".join(bad))
        return 1
    print(f"all match PyTorch {torch.__version__} (worst relative error {worst:.2e}, "
          f"tolerance {TOL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
