"""Level-1 anomaly detectors, trained quantisation-aware with HGQ2 (Keras 3 on the torch backend).

Why HGQ2: its layers quantise weights, biases and every intermediate value to fixed-point formats during
training, with the same rounding/overflow semantics that da4ml and hls4ml implement, so the firmware
computes exactly the trained function (bit-exact; checked in ``core.trigger.firmware``). A hand-written
torch fake-quantisation would have to reproduce those semantics itself.

AXOL1TL-like (CMS-DP-2023-079): a VAE on the 57 object inputs. The encoder 57 → 32 → 16 → μ(8) is what runs
in firmware, with fixed precisions close to the published model (weights 6 bits with 3 integer bits
including sign → here k=1, i=2, f=3; inputs exact: f = 9; activations 10 integer and 12 fractional bits,
truncated, so that none saturates on any physical event); the score is
the published latent score Σ μ² (computed from the firmware's μ). The decoder and the log-variance head
are float and exist only for training (MSE reconstruction + β·KL, β = 0.5).

CICADA-like (CMS-DP-2023-086): a float convolutional autoencoder ("teacher", plain torch) on the 14 × 18 image;
its per-event reconstruction error, as log(1 + MSE·1000), is the target of a small quantised "student"
252 → 16 → 1 that runs in firmware, on the region ET / 64 GeV (exact fixed-point inputs).
"""

from __future__ import annotations

import numpy as np

from anomalyscope.core.extras import require

LATENT = 8
ENCODER_UNITS = (32, 16)
STUDENT_UNITS = (16,)
WEIGHT_BITS = {"i0": 2, "f0": 3}  # plus sign: 6 bits, as the published ap_fixed<6,3> weights
BIAS_BITS = {"i0": 4, "f0": 6}
DATA_BITS = {"i0": 10, "f0": 12}  # no activation saturates for any physical event (|value| < 1024)
INPUT_BITS = {"i0": 4, "f0": 9}  # pT/256 up to 16 (4 TeV), LSB 2^-9 (0.5 GeV / 256)
IMAGE_SCALE = 64.0  # the student sees region ET / 64 GeV: 0.5 GeV steps are 2^-7, 511.5 GeV is < 8
IMAGE_INPUT_BITS = {"i0": 3, "f0": 7}


def _keras():
    require("hgq", "Trigger models")  # HGQ2's quantised layers; keras comes with it
    keras = require("keras", "Trigger models")

    if keras.backend.backend() != "torch":
        raise RuntimeError("anomalyscope.core.trigger needs KERAS_BACKEND=torch (set before keras is imported)")
    # float64: Keras then evaluates the quantised networks exactly (a 252-input layer accumulates more bits
    # than float32's 24-bit mantissa holds; in float32 a few events differ from the firmware in the last bits)
    keras.config.set_floatx("float64")
    return keras


def _scopes(input_bits: dict):
    from hgq.config import LayerConfigScope, QuantizerConfigScope

    # q_type selects which defaults the scope edits, default_q_type makes them the ones used (fixed kif formats)
    common = {"q_type": "kif", "default_q_type": "kif", "trainable": False}
    return (
        QuantizerConfigScope(place="weight", overflow_mode="SAT_SYM", **common, **WEIGHT_BITS),
        QuantizerConfigScope(place="bias", overflow_mode="SAT", **common, **BIAS_BITS),
        # activations truncated (TRN, free in firmware); hls4ml's bit-exact flow drops fraction bits a later layer
        # cannot see, which is exact for truncation but not for rounding
        # WRAP: with 10 integer bits no activation can overflow for a physical event (so no saturation logic)
        QuantizerConfigScope(place="datalane", overflow_mode="WRAP", round_mode="TRN", **common, **DATA_BITS),
        LayerConfigScope(enable_ebops=False),
    ), input_bits


def _quantised_mlp(n_in: int, units: tuple, n_out: int, input_bits: dict, name: str):
    """A fixed-precision HGQ2 MLP: input quantiser, ReLU hidden layers, linear outputs."""
    from contextlib import ExitStack

    from hgq.config import QuantizerConfig
    from hgq.layers import QDense

    keras = _keras()
    scopes, ibits = _scopes(input_bits)
    with ExitStack() as stack:
        for s in scopes:
            stack.enter_context(s)
        inp = keras.Input((n_in,), name=f"{name}_in")
        # inputs are exact fixed-point numbers already (core.trigger.l1 quantises and clips them): no rounding,
        # and WRAP, the only mode firmware inputs take (it never acts on in-range values)
        iq = QuantizerConfig("kif", "datalane", overflow_mode="WRAP", round_mode="TRN", trainable=False, **ibits)
        h = inp
        for k, u in enumerate(units):
            h = QDense(u, activation="relu", iq_conf=iq if k == 0 else None, name=f"{name}_dense{k}")(h)
        # the output is quantised too (activation format, saturating): without it hls4ml would give the output
        # its default precision, which a large input overflows (seen on W' events in the CICADA student)
        oq = QuantizerConfig("kif", "datalane", overflow_mode="WRAP", round_mode="TRN", trainable=False, **DATA_BITS)
        out = QDense(n_out, enable_oq=True, oq_conf=oq, name=f"{name}_out")(h)
    return keras.Model(inp, out, name=name)


class _Sampling:
    """z = μ + σ·ε and the KL term, as a Keras layer (built lazily: keras is imported on first use)."""

    @staticmethod
    def layer(beta: float):
        keras = _keras()
        ops = keras.ops

        class Sampling(keras.layers.Layer):
            def call(self, inputs):
                mu, logvar = inputs
                logvar = ops.clip(logvar, -10.0, 10.0)
                kl = -0.5 * ops.mean(ops.sum(1 + logvar - mu**2 - ops.exp(logvar), axis=-1))
                self.add_loss(beta * kl)
                eps = keras.random.normal(ops.shape(mu))
                return mu + ops.exp(0.5 * logvar) * eps

        return Sampling(name="sampling")


def train_axol1tl(x: np.ndarray, epochs: int = 20, batch: int = 1024, beta: float = 0.5, seed: int = 0, verbose=0):
    """Train the VAE on zero-bias inputs; return the quantised encoder (57 → μ) and the training history."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    encoder = _quantised_mlp(x.shape[1], ENCODER_UNITS, LATENT, INPUT_BITS, "axol1tl_encoder")
    inp = keras.Input((x.shape[1],))
    mu = encoder(inp)
    hidden = encoder.get_layer(f"axol1tl_encoder_dense{len(ENCODER_UNITS) - 1}").output
    logvar_model = keras.Model(encoder.input, keras.layers.Dense(LATENT, name="logvar")(hidden))
    z = _Sampling.layer(beta)([mu, logvar_model(inp)])
    h = z
    for u in reversed(ENCODER_UNITS):
        h = keras.layers.Dense(u, activation="relu")(h)
    recon = keras.layers.Dense(x.shape[1])(h)
    vae = keras.Model(inp, recon)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    hist = vae.fit(x, x, epochs=epochs, batch_size=batch, validation_split=0.2, verbose=verbose, shuffle=True)
    return encoder, {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def axol1tl_score(mu: np.ndarray) -> np.ndarray:
    """The published AXOL1TL score: Σ μ² over the latent dimensions."""
    return np.sum(np.asarray(mu, dtype=np.float64) ** 2, axis=1)


def student_inputs(images: np.ndarray) -> np.ndarray:
    """(n, 252) student inputs from (n, 14, 18) region images: ET / 64 GeV, exact fixed-point numbers."""
    return (np.asarray(images, dtype=np.float64) / IMAGE_SCALE).reshape(len(images), -1)


def _teacher_network(h: int, w: int):
    import torch
    from torch import nn

    class Teacher(nn.Module):
        """Conv autoencoder on the 14 × 18 region image (float; runs offline, only the student is firmware)."""

        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 12, 3, padding=1),
                nn.ReLU(),
                nn.Flatten(),
                nn.Linear(12 * (h // 2) * (w // 2), 20),
                nn.ReLU(),
            )
            self.dec = nn.Sequential(
                nn.Linear(20, 12 * (h // 2) * (w // 2)),
                nn.ReLU(),
                nn.Unflatten(1, (12, h // 2, w // 2)),
                nn.Upsample(scale_factor=2),
                nn.Conv2d(12, 8, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(8, 1, 3, padding=1),
            )

        def forward(self, x):
            return self.dec(self.enc(x))

    torch.manual_seed(0)
    return Teacher()


def train_cicada(images: np.ndarray, epochs: int = 20, batch: int = 1024, seed: int = 0, verbose=0):
    """Teacher (float conv autoencoder on the region image, torch) then student (quantised 252 → 16 → 1,
    HGQ2) that regresses the teacher's score log(1 + 1000·MSE). Returns (teacher, student, teacher_score_fn,
    histories)."""
    import torch

    n, h, w = images.shape
    scale = 1.0 / 64.0
    torch.manual_seed(seed)
    teacher = _teacher_network(h, w)
    x = torch.tensor(images * scale, dtype=torch.float32)[:, None]
    n_val = max(1, n // 5)
    x_train, x_val = x[n_val:], x[:n_val]
    opt = torch.optim.Adam(teacher.parameters(), lr=1e-3)
    t_hist = {"loss": [], "val_loss": []}
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        teacher.train()
        perm = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(x_train), batch):
            xb = x_train[perm[i : i + batch]]
            opt.zero_grad()
            loss = torch.mean((teacher(xb) - xb) ** 2)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(xb)
        teacher.eval()
        with torch.no_grad():
            t_hist["loss"].append(total / len(x_train))
            t_hist["val_loss"].append(float(torch.mean((teacher(x_val) - x_val) ** 2)))

    def teacher_score(images_):
        with torch.no_grad():
            xt = torch.tensor(np.asarray(images_) * scale, dtype=torch.float32)[:, None]
            rec = torch.cat([teacher(xt[i : i + 8192]) for i in range(0, len(xt), 8192)])
            return np.log1p(1000.0 * torch.mean((rec - xt) ** 2, dim=(1, 2, 3)).numpy().astype(np.float64))

    keras = _keras()
    keras.utils.set_random_seed(seed)
    target = teacher_score(images)
    student = _quantised_mlp(h * w, STUDENT_UNITS, 1, IMAGE_INPUT_BITS, "cicada_student")
    student.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    s_hist = student.fit(
        student_inputs(images),
        target,
        epochs=epochs,
        batch_size=batch,
        validation_split=0.2,
        verbose=verbose,
    )
    return teacher, student, teacher_score, {"teacher": t_hist, "student": _floats(s_hist.history)}


def _floats(h: dict) -> dict:
    return {k: [float(v) for v in vals] for k, vals in h.items()}


def predict(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=8192, verbose=0), dtype=np.float64)


def float_twin(model):
    """The same network without quantisation: float Dense layers with the unquantised kernels and biases,
    ReLU where the quantised layer has it (the "float model" the firmware is compared with)."""
    from hgq.layers import QDense

    keras = _keras()
    layers = [lyr for lyr in model.layers if isinstance(lyr, QDense)]
    inp = keras.Input(model.input_shape[1:])
    h = inp
    for lyr in layers:
        dense = keras.layers.Dense(lyr.units, activation=lyr.activation)
        h = dense(h)
        dense.set_weights(
            [np.asarray(keras.ops.convert_to_numpy(lyr.kernel)), np.asarray(keras.ops.convert_to_numpy(lyr.bias))]
        )
    return keras.Model(inp, h)


def load(path):
    """A saved trigger model (HGQ2 layers are registered with Keras when hgq is imported)."""
    import hgq  # noqa: F401

    return _keras().models.load_model(path)
