"""The autoencoder, the MLPs and the signs of the ARAE training steps."""
import copy

import torch

from arae.data.batching import collate
from arae.data.vocab import EOS_ID
from arae.models.mlp import Critic, Generator
from arae.models.seq2seq import Seq2Seq
from arae.training.steps import ae_step, critic_step, encoder_adversarial_step, generator_step

V, H, Z = 30, 16, 8


def _batch(n=6):
    g = torch.Generator().manual_seed(1)
    return collate([torch.randint(4, V, (int(3 + i % 4),), generator=g).tolist() for i in range(n)])


def test_codes_lie_on_the_unit_sphere_and_noise_only_when_asked():
    torch.manual_seed(0)
    ae, b = Seq2Seq(V, 12, H, noise_r=0.3), _batch()
    code = ae.encode(b.src, b.lengths)
    assert torch.allclose(code.norm(dim=1), torch.ones(len(b)), atol=1e-5)
    assert torch.equal(code, ae.encode(b.src, b.lengths))
    assert not torch.allclose(code, ae.encode(b.src, b.lengths, noise=True))


def test_greedy_generation_pads_after_eos_and_stops_with_the_longest_sequence():
    torch.manual_seed(0)
    ae = Seq2Seq(V, 12, H)
    with torch.no_grad():
        ae.linear.bias[EOS_ID] = 50.0  # every sequence ends at once
    ids = ae.generate(torch.randn(5, H), maxlen=40)
    assert ids.shape == (5, 1) and (ids[:, 0] == EOS_ID).all()


def test_generator_and_critic_shapes_follow_the_arch_string():
    gen, critic = Generator(Z, H, "20-10"), Critic(H, "20-10")
    assert [m.out_features for m in gen.net if isinstance(m, torch.nn.Linear)] == [20, 10, H]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in critic.net) == 1  # none after the first layer
    assert critic(gen(torch.randn(4, Z))).shape == (4,)


def _parts(seed=0):
    torch.manual_seed(seed)
    ae, gen, critic = Seq2Seq(V, 12, H), Generator(Z, H, "16-16"), Critic(H, "16-16")
    return ae, gen, critic


def test_critic_step_widens_the_gap_between_real_and_fake():
    ae, gen, critic = _parts()
    opt = torch.optim.Adam(critic.parameters(), lr=1e-2)
    b = _batch(16)
    real = ae.encode(b.src, b.lengths).detach()
    gaps = []
    for _ in range(20):
        gaps.append(float(critic_step(gen, critic, opt, real, Z, gp_lambda=1.0)[0]))
    assert gaps[-1] > gaps[0]  # the estimated Wasserstein distance f(fake) - f(real) grows


def test_encoder_adversarial_step_moves_real_codes_up_the_critic_and_generator_step_moves_fakes():
    torch.manual_seed(0)
    ae, gen, critic = Seq2Seq(V, 12, H), Generator(Z, H, "16-16"), Critic(H, "16")  # no BatchNorm in this critic
    b = _batch(16)

    def real_score():
        with torch.no_grad():
            return float(critic(ae.encode(b.src, b.lengths)).mean())
    before = real_score()
    opt_ae = torch.optim.SGD(ae.parameters(), lr=1.0)
    for _ in range(5):
        encoder_adversarial_step(ae, critic, opt_ae, b, grad_lambda=1.0, clip=1.0)
    assert real_score() > before

    z_gen = torch.Generator().manual_seed(5)
    z = torch.randn(16, Z, generator=z_gen)
    def fake_score():
        with torch.no_grad():
            return float(critic(gen.eval()(z)).mean())
    fake_before = fake_score()
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-2)
    for _ in range(5):
        generator_step(gen, critic, opt_g, 16, Z, torch.device("cpu"))
    assert fake_score() < fake_before


def test_grad_lambda_scales_the_encoder_gradient():
    ae, _, critic = _parts()
    b = _batch(8)
    grads = []
    for lam in (1.0, 0.1):
        model = copy.deepcopy(ae)
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        encoder_adversarial_step(model, critic, opt, b, grad_lambda=lam, clip=1e9)
        grads.append(model.encoder.weight_hh_l0.grad.clone())
    assert torch.allclose(grads[1], grads[0] * 0.1, atol=1e-7)


def test_autoencoder_learns_to_reconstruct():
    torch.manual_seed(0)
    ae, b = Seq2Seq(V, 16, 32), _batch(8)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
    losses = [float(ae_step(ae, opt, b, clip=1.0)) for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0]
