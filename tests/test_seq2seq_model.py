"""The attention encoder–decoder (`tasks.seq2seq.model`) and its decoders (`decoding`).

Tiny models on CPU: attention masking, padding invariance, teacher forcing == manual steps,
scheduled sampling, beam search against greedy decoding and brute-force enumeration, and a
short training run on a toy task.
"""

from __future__ import annotations

import re

import pytest
import torch

from lstmkit.tasks.recurrent import RecurrentConfig
from lstmkit.tasks.seq2seq.decoding import beam_search, greedy_decode
from lstmkit.tasks.seq2seq.model import Seq2Seq

PAD, BOS, EOS = 0, 1, 2
ATTENTIONS = ("bahdanau", "luong")


@pytest.fixture(autouse=True)
def _one_thread():
    """These models are tiny: one thread is faster than two, and much faster when the
    cores are shared with other processes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model(
    attention: str = "luong", *, decoder_cell: str = "lstm", encoder: RecurrentConfig | None = None,
    vocab: int = 7, hidden: int = 12, layers: int = 1, seed: int = 0, gain: float = 3.0,
) -> Seq2Seq:
    """A random model in eval mode. Its matrices are drawn ``N(0, gain² / fan_in)``: with
    torch's small default initialisation an untrained model tends to repeat one token
    whatever the source; larger weights make its outputs vary with the input."""
    torch.manual_seed(seed)
    encoder = encoder or RecurrentConfig(cell="lstm", hidden_size=hidden, bidirectional=True)
    decoder = RecurrentConfig(cell=decoder_cell, hidden_size=hidden, num_layers=layers)
    model = Seq2Seq(
        vocab, vocab, embedding_size=8, encoder=encoder, decoder=decoder, attention=attention
    )
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2:
                parameter.normal_(0.0, gain / parameter.shape[1] ** 0.5)
    return model.eval()


def _batch(vocab: int, lengths: list[int], *, seed: int, pad_with=None) -> torch.Tensor:
    """Sources ``(N, max(lengths))`` of real tokens, padded with PAD (or ``pad_with`` ids)."""
    g = torch.Generator().manual_seed(seed)
    source = torch.randint(3, vocab, (len(lengths), max(lengths)), generator=g)
    for row, length in enumerate(lengths):
        if pad_with is None:
            source[row, length:] = PAD
        else:
            source[row, length:] = torch.randint(0, vocab, (max(lengths) - length,), generator=g)
    return source


def _target_in(vocab: int, batch: int, length: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(3, vocab, (batch, length), generator=g)
    target[:, 0] = BOS
    target[0, -2:] = PAD  # a shorter target
    return target


# ----------------------------------------------------------------------------------------
# attention and padding


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_attention_weights_sum_to_one_and_are_zero_on_padding(attention):
    model = _model(attention)
    lengths = [5, 2, 1, 4]
    source = _batch(7, lengths, seed=1)
    _, weights = model(source, torch.tensor(lengths), _target_in(7, 4, 6, seed=2))
    assert weights.shape == (4, 6, 5)
    mask = torch.arange(5) < torch.tensor(lengths).unsqueeze(1)  # (N, S)
    mask = mask.unsqueeze(1).expand_as(weights)
    assert torch.all(weights[~mask] == 0.0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, 6))
    assert torch.all(weights[mask] > 0.0)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_garbage_in_the_padding_changes_nothing(attention):
    model = _model(attention, decoder_cell="gru")
    lengths = [5, 2, 3]
    clean = _batch(7, lengths, seed=3)
    garbage = clean.clone()
    garbage[1, 2:] = torch.tensor([6, 3, 5])
    garbage[2, 3:] = torch.tensor([4, 4])
    # Two more padded columns: the attention has two more (zero) positions.
    wider = torch.cat([garbage, torch.tensor([[3, 6]] * 3)], dim=1)
    target = _target_in(7, 3, 5, seed=4)
    logits, weights = model(clean, torch.tensor(lengths), target)
    for other in (garbage, wider):
        other_logits, other_weights = model(other, torch.tensor(lengths), target)
        torch.testing.assert_close(other_logits, logits, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(other_weights[..., :5], weights, rtol=1e-5, atol=1e-6)
        assert torch.all(other_weights[..., 5:] == 0.0)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_one_step_follows_the_published_equations(attention):
    """Recompute a step from the parameters: bahdanau scores from s_{t-1}, luong from s_t."""
    model = _model(attention, decoder_cell="gru")
    lengths = torch.tensor([4, 2])
    source = _batch(7, lengths.tolist(), seed=15)
    previous = torch.tensor([5, 3])
    encoded = model.encode(source, lengths)
    state = model.start(encoded)
    logits, new_state, weights = model.step(previous, state, encoded)

    memory, mask = encoded.memory, encoded.mask  # (N, S, E), (N, S)
    embedded = model.target_embedding(previous)  # (N, H_emb)
    s_prev = state.hidden[-1]  # (N, H): GRU state, top layer
    if attention == "bahdanau":
        keys = memory @ model.key.weight.T + model.key.bias  # W_k m + b
        energy = torch.tanh(keys + (s_prev @ model.query.weight.T).unsqueeze(1))
        scores = (energy @ model.energy.weight.T).squeeze(-1)  # vᵀ tanh(...)
    else:
        s_t = new_state.hidden[-1]
        scores = torch.einsum("nh,hk,nsk->ns", s_t, model.key.weight, memory)  # s_tᵀ W_a m
    expected = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    torch.testing.assert_close(weights, expected)
    context = (expected.unsqueeze(-1) * memory).sum(1)  # (N, E)
    if attention == "bahdanau":
        inputs = torch.cat([embedded, context], -1)
        s_t = model.decoder.step(inputs, state.hidden)[0]
        out = torch.tanh(model.deep_output(torch.cat([s_t, context, embedded], -1)))
    else:
        out = torch.tanh(model.combine(torch.cat([context, s_t], -1)))  # h~_t
        torch.testing.assert_close(new_state.feed, out)
    torch.testing.assert_close(logits, model.output(out))


def test_the_bridge_reads_both_directions_final_states():
    model = _model("luong", decoder_cell="lstm", layers=2)
    lengths = torch.tensor([4, 2])
    source = _batch(7, lengths.tolist(), seed=16)
    state = model.start(model.encode(source, lengths))
    memory, _ = model.encoder(model.source_embedding(source), lengths=lengths)  # (N, S, 2*H)
    hidden = model.encoder.hidden_size
    forward_end = memory[torch.arange(2), lengths - 1, :hidden]  # last real step, forward
    backward_end = memory[:, 0, hidden:]  # first step, backward
    summary = torch.cat([forward_end, backward_end], -1)  # (N, E)
    h, c = state.hidden  # (L_dec, N, H) each
    expected_h = torch.tanh(model.bridge(summary)).view(2, 2, -1).transpose(0, 1)
    torch.testing.assert_close(h, expected_h)
    torch.testing.assert_close(c, model.bridge_cell(summary).view(2, 2, -1).transpose(0, 1))
    assert torch.equal(state.feed, torch.zeros(2, h.shape[-1]))


# ----------------------------------------------------------------------------------------
# teacher forcing and scheduled sampling


def _manual(model: Seq2Seq, source, lengths, target_in, *, own: bool):
    """Step the decoder by hand: feed ``target_in`` (``own=False``) or, after BOS, the argmax
    of the previous logits (``own=True``)."""
    encoded = model.encode(source, lengths)
    state = model.start(encoded)
    previous = target_in[:, 0]
    outputs = []
    for t in range(target_in.shape[1]):
        if t > 0:
            previous = model.mask_special(outputs[-1]).argmax(-1) if own else target_in[:, t]
        logits, state, _ = model.step(previous, state, encoded)
        outputs.append(logits)
    return torch.stack(outputs, dim=1)


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("decoder_cell", ["lstm", "gru", "rnn_tanh"])
def test_teacher_forcing_equals_manual_steps(attention, decoder_cell):
    model = _model(attention, decoder_cell=decoder_cell, layers=2)
    lengths = torch.tensor([4, 3, 1])
    source = _batch(7, lengths.tolist(), seed=5)
    target = _target_in(7, 3, 6, seed=6)
    logits, _ = model(source, lengths, target)
    assert logits.shape == (3, 6, 7)
    torch.testing.assert_close(logits, _manual(model, source, lengths, target, own=False))


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_sampling_probability_one_feeds_the_argmax(attention):
    model = _model(attention, seed=0)
    lengths = torch.tensor([5, 3, 4, 2])
    source = _batch(7, lengths.tolist(), seed=7)
    target = _target_in(7, 4, 7, seed=8)
    free = _manual(model, source, lengths, target, own=True)
    own, _ = model(source, lengths, target, sampling_probability=1.0)
    torch.testing.assert_close(own, free)
    gold, _ = model(source, lengths, target)
    assert not torch.allclose(gold, own)  # the gold tokens really were replaced
    # Greedy decoding follows the same path until each row's EOS.
    path = model.mask_special(free).argmax(-1).tolist()
    expected = [row[: row.index(EOS)] if EOS in row else row for row in path]
    assert greedy_decode(model, source, lengths, max_length=7) == expected
    assert any(EOS in row for row in path) and any(len(row) > 1 for row in expected)


def test_scheduled_sampling_mixes_per_row_and_follows_the_generator():
    model = _model(seed=3)
    lengths = torch.tensor([5, 3, 4, 2, 5, 1])
    source = _batch(7, lengths.tolist(), seed=9)
    target = _target_in(7, 6, 6, seed=10)
    gold, _ = model(source, lengths, target)
    own, _ = model(source, lengths, target, sampling_probability=1.0)

    def mixed(seed):
        g = torch.Generator().manual_seed(seed)
        return model(source, lengths, target, sampling_probability=0.5, generator=g)[0]

    first = mixed(0)
    torch.testing.assert_close(mixed(0), first)
    # Step 1 reads the fed token of step 1: each row matches gold feeding or own feeding.
    for row in range(6):
        matches = [torch.allclose(first[row, 1], ref[row, 1]) for ref in (gold, own)]
        assert any(matches), row
    assert not torch.allclose(first, gold) and not torch.allclose(first, own)
    zero = model(source, lengths, target, sampling_probability=0.0)[0]
    torch.testing.assert_close(zero, gold)


# ----------------------------------------------------------------------------------------
# beam search

VARIANT_ENCODER = RecurrentConfig(
    cell="lstm", hidden_size=10, bidirectional=True, peephole=True, layer_norm=True
)


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("decoder_cell", ["lstm", "gru"])
@pytest.mark.parametrize("variant_encoder", [False, True])
def test_beam_width_one_is_greedy(attention, decoder_cell, variant_encoder):
    lengths = [6, 2, 4, 1, 5, 3]
    for seed in range(3):
        model = _model(
            attention, decoder_cell=decoder_cell, seed=seed, layers=1 + seed % 2,
            encoder=VARIANT_ENCODER if variant_encoder else None,
        )
        source = _batch(7, lengths, seed=seed)
        greedy = greedy_decode(model, source, torch.tensor(lengths), max_length=7)
        beams = beam_search(model, source, torch.tensor(lengths), beam_width=1, max_length=7)
        assert [hyps[0][0] for hyps in beams] == greedy
        assert all(len(hyps) == 1 for hyps in beams)


def _every_hypothesis(model: Seq2Seq, source, length: int, max_length: int, alpha: float):
    """Brute force: ``{tokens: length-normalised log-probability}`` of every output of at
    most ``max_length`` steps (ending in EOS, or cut at ``max_length``) for one source."""
    encoded = model.encode(source.unsqueeze(0), torch.tensor([length]))
    real = range(3, model.target_vocab_size)
    scores = {}

    def walk(prefix, state, total):
        logits, state, _ = model.step(
            torch.tensor([prefix[-1] if prefix else BOS]), state, encoded
        )
        log_probs = logits.float().log_softmax(-1)[0].double()
        scores[tuple(prefix)] = float(total + log_probs[EOS]) / (len(prefix) + 1) ** alpha
        for token in real:
            extended, score = prefix + [token], total + log_probs[token]
            if len(extended) == max_length:
                scores[tuple(extended)] = float(score) / max_length**alpha
            else:
                walk(extended, state, score)

    with torch.no_grad():
        walk([], model.start(encoded), torch.tensor(0.0, dtype=torch.float64))
    return scores


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_finds_the_brute_force_best(attention, alpha):
    # 3 real tokens, 4 steps: 121 hypotheses; 128 beams keep every one of them.
    model = _model(attention, vocab=6, seed=3)
    lengths = [4, 2, 3]
    source = _batch(6, lengths, seed=12)
    beams = beam_search(
        model, source, torch.tensor(lengths), beam_width=128, max_length=4,
        length_penalty=alpha, n_best=5,
    )
    greedy = greedy_decode(model, source, torch.tensor(lengths), max_length=4)
    beats_greedy = 0
    for row, length in enumerate(lengths):
        truth = _every_hypothesis(model, source[row], length, 4, alpha)
        assert len(truth) == 121
        best = max(truth, key=truth.get)
        found = beams[row]
        assert list(best) == found[0][0]
        for tokens, score in found:
            assert score == pytest.approx(truth[tuple(tokens)], abs=1e-5)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        beats_greedy += truth[tuple(greedy[row])] < truth[best] - 1e-6
    assert beats_greedy > 0  # the search did better than greedy somewhere


def _reference_beam(model: Seq2Seq, source, length: int, width: int, max_length: int,
                    alpha: float):
    """The rules of the module docstring, one source and one hypothesis at a time."""
    encoded = model.encode(source.unsqueeze(0), torch.tensor([length]))
    live = [([], 0.0, model.start(encoded))]
    finished = []
    for t in range(1, max_length + 1):
        candidates = []
        for tokens, score, state in live:
            previous = torch.tensor([tokens[-1] if tokens else BOS])
            logits, new_state, _ = model.step(previous, state, encoded)
            log_probs = model.mask_special(logits.float().log_softmax(-1))[0].double()
            for token in range(3, model.target_vocab_size):
                candidates.append((score + float(log_probs[token]), tokens + [token], new_state))
            candidates.append((score + float(log_probs[EOS]), tokens + [EOS], new_state))
        candidates.sort(key=lambda item: -item[0])
        top = candidates[: 2 * width]
        finished += [(toks[:-1], s / t**alpha) for s, toks, _ in top[:width] if toks[-1] == EOS]
        live = [(toks, s, st) for s, toks, st in top if toks[-1] != EOS][:width]
        if t == max_length:
            finished += [(toks, s / t**alpha) for toks, s, _ in live]
        elif len(finished) >= width and max(f[1] for f in finished) >= live[0][1] / max_length**alpha:
            break
    return sorted(finished, key=lambda item: -item[1])


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("alpha", [0.0, 0.7, 2.0])
def test_beam_search_equals_a_one_hypothesis_at_a_time_reference(attention, alpha):
    lengths = [5, 2, 4]
    for seed in range(3):
        model = _model(attention, seed=seed)
        source = _batch(7, lengths, seed=seed + 20)
        beams = beam_search(
            model, source, torch.tensor(lengths), beam_width=3, max_length=8,
            length_penalty=alpha, n_best=3,
        )
        with torch.no_grad():
            for row, length in enumerate(lengths):
                expected = _reference_beam(model, source[row], length, 3, 8, alpha)[:3]
                assert [tokens for tokens, _ in beams[row]] == [tokens for tokens, _ in expected]
                for (_, got), (_, want) in zip(beams[row], expected):
                    assert got == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_batched_beam_search_equals_one_source_at_a_time(attention):
    model = _model(attention, decoder_cell="gru", seed=7)
    lengths = [5, 1, 3, 4]
    source = _batch(7, lengths, seed=13)
    options = {"beam_width": 4, "max_length": 8, "length_penalty": 0.6, "n_best": 3}
    together = beam_search(model, source, torch.tensor(lengths), **options)
    for row, length in enumerate(lengths):
        alone = beam_search(model, source[row : row + 1, :length], torch.tensor([length]), **options)
        assert [tokens for tokens, _ in alone[0]] == [tokens for tokens, _ in together[row]]
        for (_, a), (_, b) in zip(alone[0], together[row]):
            assert a == pytest.approx(b, abs=1e-5)
    assert len({tuple(hyps[0][0]) for hyps in together}) > 1  # outputs depend on the source


def test_beam_search_leaves_the_mode_alone_and_makes_no_gradients():
    model = _model()
    model.train()
    source = _batch(7, [3, 2], seed=14)
    beams = beam_search(model, source, torch.tensor([3, 2]), beam_width=2, max_length=3)
    greedy_decode(model, source, torch.tensor([3, 2]), max_length=3)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(len(tokens) <= 3 for hyps in beams for tokens, _ in hyps)


# ----------------------------------------------------------------------------------------
# learning


def _reverse_examples(count: int, generator: torch.Generator):
    """Sources of 1–5 symbols (ids 3–7), targets the reversed source; padded tensors."""
    lengths = torch.randint(1, 6, (count,), generator=generator)
    source = torch.randint(3, 8, (count, 5), generator=generator)
    source[torch.arange(5) >= lengths.unsqueeze(1)] = PAD
    rows = [source[i, : lengths[i]].flip(0).tolist() for i in range(count)]
    target_in = torch.full((count, 6), PAD)
    target_out = torch.full((count, 6), PAD)
    for i, row in enumerate(rows):
        target_in[i, : len(row) + 1] = torch.tensor([BOS] + row)
        target_out[i, : len(row) + 1] = torch.tensor(row + [EOS])
    return source, lengths, target_in, target_out, rows


def test_learns_to_reverse_short_sequences():
    torch.manual_seed(0)
    model = Seq2Seq(
        8, 8, embedding_size=16, attention="luong",
        encoder=RecurrentConfig(cell="gru", hidden_size=32, bidirectional=True),
        decoder=RecurrentConfig(cell="gru", hidden_size=32),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        source, lengths, target_in, target_out, _ = _reverse_examples(64, g)
        logits, _ = model(source, lengths, target_in)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 8), target_out.reshape(-1), ignore_index=PAD
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    source, lengths, _, _, rows = _reverse_examples(200, torch.Generator().manual_seed(99))
    decoded = greedy_decode(model, source, lengths, max_length=8)
    accuracy = sum(out == row for out, row in zip(decoded, rows)) / len(rows)
    assert accuracy >= 0.95, accuracy


# ----------------------------------------------------------------------------------------
# bad input


def _configs():
    return RecurrentConfig(hidden_size=8, bidirectional=True), RecurrentConfig(hidden_size=8)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"decoder": RecurrentConfig(hidden_size=8, bidirectional=True)}, "decoder.bidirectional"),
        ({"decoder": RecurrentConfig(hidden_size=8, zoneout=0.1)}, "decoder.zoneout"),
        ({"decoder": RecurrentConfig(hidden_size=8, variant="FGR")}, "FGR"),
        ({"attention": "dot"}, "attention must be one of bahdanau, luong, got 'dot'"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        ({"eos_index": 1}, "must differ"),
        ({"bos_index": 9}, "bos_index must be an int in [0, target_vocab_size=7), got 9"),
    ],
)
def test_bad_arguments_are_named(change, message):
    encoder, decoder = _configs()
    arguments = {"embedding_size": 4, "encoder": encoder, "decoder": decoder, **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        Seq2Seq(7, 7, **arguments)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"beam_width": 0}, "beam_width must be an int >= 1, got 0"),
        ({"beam_width": 2.0}, "beam_width must be an int >= 1, got 2.0"),
        ({"max_length": 0}, "max_length must be an int >= 1, got 0"),
        ({"n_best": 3}, r"n_best must be at most beam_width \(2\), got 3"),
        ({"length_penalty": -0.5}, "length_penalty must be a finite number >= 0, got -0.5"),
    ],
)
def test_bad_decoding_options_are_named(options, message):
    model = _model()
    source = _batch(7, [2], seed=0)
    with pytest.raises(ValueError, match=message):
        beam_search(model, source, torch.tensor([2]), **{"beam_width": 2, "max_length": 3, **options})


def test_bad_inputs_are_named():
    model = _model()
    source = _batch(7, [2, 2], seed=0)
    with pytest.raises(ValueError, match="source must be a 2D int64 tensor"):
        model.encode(source.float(), torch.tensor([2, 2]))
    with pytest.raises(ValueError, match="target_in has 1 rows but source has 2"):
        model(source, torch.tensor([2, 2]), torch.tensor([[BOS]]))
    with pytest.raises(ValueError, match=r"sampling_probability must be in \[0, 1\], got 1.5"):
        model(source, torch.tensor([2, 2]), torch.tensor([[BOS]] * 2), sampling_probability=1.5)
    with pytest.raises(ValueError, match="max_length must be an int >= 1, got -1"):
        greedy_decode(model, source, torch.tensor([2, 2]), max_length=-1)
    # lengths may also be a list of ints
    as_list = greedy_decode(model, source, [2, 1], max_length=4)
    assert as_list == greedy_decode(model, source, torch.tensor([2, 1]), max_length=4)
