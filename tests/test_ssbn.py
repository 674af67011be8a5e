"""SSBN checks that take longer than a notebook cell should: torch.compile and two-process data parallelism.

SyncBatchNorm itself needs a GPU in torch 2.13 (on CPU it raises 'expected input tensor to be on GPU'); the
chapter checks that convert_sync_batchnorm converts every size's BatchNorm, and the DDP test here runs on CPU."""

import socket
import torch
import torch.distributed as dist
import torch.multiprocessing as tmp
from torch import nn
from ssbn_course.ssbn import convert_to_ssbn, ssbn_layers


def _tiny(sizes):
    "A small CNN with BatchNorms at two depths, quick to compile on a CPU."
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, 2, 1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 3),
    )
    return convert_to_ssbn(net, sizes)


def test_torch_compile_follows_the_active_size():
    m = _tiny((32, 64)).eval()
    c = torch.compile(m, backend='eager')  # dynamo tracing and guards; inductor codegen is slow on CPU
    with torch.no_grad():
        for s in (32, 64, 32):
            x = torch.rand(2, 3, s, s)
            torch.testing.assert_close(c(x), m(x), rtol=1e-4, atol=1e-4)
            assert {l.active_size for l in ssbn_layers(m)} == {s}


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, port, x, q):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    # eval: BatchNorm uses its running statistics. At one input size the other sizes' BatchNorms get no gradient, so DDP
    # must be told (find_unused_parameters); without it their bucket is never all-reduced. A multi-size SSBN step uses every size.
    m = nn.parallel.DistributedDataParallel(_tiny((32, 64)).eval(), find_unused_parameters=True)
    out = m(x[rank * 2 : (rank + 1) * 2])
    out.mean().backward()
    q.put((rank, out.detach().numpy(), next(iter(m.module.parameters())).grad.numpy()))  # by value: the worker exits
    dist.destroy_process_group()


def test_two_process_ddp_matches_single_process():
    x = torch.rand(4, 3, 64, 64)
    ref = _tiny((32, 64)).eval()
    out = ref(x)
    out.mean().backward()
    ctx = tmp.get_context('spawn')
    q = ctx.Queue()
    port = _free_port()
    ps = [ctx.Process(target=_worker, args=(r, port, x, q)) for r in range(2)]
    for p in ps:
        p.start()
    res = dict((r[0], [torch.from_numpy(a) for a in r[1:]]) for r in (q.get(timeout=120) for _ in ps))
    for p in ps:
        p.join(60)
    torch.testing.assert_close(torch.cat([res[0][0], res[1][0]]), out.detach(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(res[1][1], res[0][1])  # gradients were all-reduced
    torch.testing.assert_close(
        res[0][1], next(iter(ref.parameters())).grad, rtol=1e-4, atol=1e-6
    )  # to the full-batch gradient
