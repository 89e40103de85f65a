//! The layers the lab's models are built from, each holding its parameters.

use super::ops::{Act, Activation, ConvGeometry, Param, Pool};
use dfdx::prelude::*;
use rand::Rng;

/// One feature-extraction layer operating on (batch, channels, height, time).
pub enum Layer<D: Device<f32>> {
    /// A 2-D convolution (no bias in the lab's models but the classifier).
    Conv {
        /// Its shape.
        geometry: ConvGeometry,
        /// Weights, (out, in / groups, kh, kw) flattened.
        weight: Param<D>,
        /// Bias per output channel, if any.
        bias: Option<Param<D>>,
        /// False for the first layer, whose input (the data) needs no gradient.
        input_grad: bool,
    },
    /// BatchNorm over channels, with running statistics for evaluation.
    BatchNorm {
        /// Scale per channel.
        gamma: Param<D>,
        /// Shift per channel.
        beta: Param<D>,
        /// Running mean per channel.
        running_mean: Param<D>,
        /// Running variance per channel.
        running_var: Param<D>,
    },
    /// An element-wise non-linearity.
    Activation(Activation),
    /// Pooling along time.
    Pool(Pool),
    /// Drop probability; active only in training.
    Dropout(f32),
}

/// A named learnable tensor or buffer of a layer, in PyTorch's `state_dict` order.
pub struct Named<'a, D: Device<f32>> {
    /// The tensor's name, as in PyTorch's state dict.
    pub name: String,
    /// The tensor.
    pub tensor: &'a Param<D>,
    /// True for parameters the optimiser updates, false for running statistics.
    pub learnable: bool,
}

impl<D: Device<f32>> Layer<D> {
    /// Output (channels, height, time) for an input of (channels, height, time).
    pub fn output_shape(&self, (c, h, w): (usize, usize, usize)) -> (usize, usize, usize) {
        match self {
            Layer::Conv { geometry, .. } => {
                let (ho, wo) = geometry.output_hw(h, w);
                (geometry.out_channels, ho, wo)
            }
            Layer::Pool(pool) => (c, h, w / pool.size()),
            _ => (c, h, w),
        }
    }

    /// PyTorch's class name for the layer (for summaries).
    pub fn kind(&self) -> String {
        match self {
            Layer::Conv { .. } => "Conv2d".into(),
            Layer::BatchNorm { .. } => "BatchNorm2d".into(),
            Layer::Activation(Activation::Relu) => "ReLU".into(),
            Layer::Activation(Activation::LeakyRelu { .. }) => "LeakyReLU".into(),
            Layer::Activation(Activation::Elu { .. }) => "ELU".into(),
            Layer::Pool(Pool::Avg(k)) => format!("AvgPool2d(1x{k})"),
            Layer::Pool(Pool::Max(k)) => format!("MaxPool2d(1x{k})"),
            Layer::Dropout(p) => format!("Dropout(p={p})"),
        }
    }

    /// The layer's tensors under `prefix`, in PyTorch's `state_dict` order.
    pub fn tensors(&self, prefix: &str) -> Vec<Named<'_, D>> {
        let named = |suffix: &str, tensor, learnable| Named {
            name: format!("{prefix}.{suffix}"),
            tensor,
            learnable,
        };
        match self {
            Layer::Conv { weight, bias, .. } => {
                let mut v = vec![named("weight", weight, true)];
                v.extend(bias.iter().map(|b| named("bias", b, true)));
                v
            }
            Layer::BatchNorm {
                gamma,
                beta,
                running_mean,
                running_var,
            } => vec![
                named("weight", gamma, true),
                named("bias", beta, true),
                named("running_mean", running_mean, false),
                named("running_var", running_var, false),
            ],
            _ => Vec::new(),
        }
    }

    /// The learnable tensors (what gets gradients), in `state_dict` order.
    pub fn learnable(&self) -> Vec<&Param<D>> {
        match self {
            Layer::Conv { weight, bias, .. } => std::iter::once(weight).chain(bias.as_ref()).collect(),
            Layer::BatchNorm { gamma, beta, .. } => vec![gamma, beta],
            _ => Vec::new(),
        }
    }

    /// Mutable access to the same tensors as [`Layer::tensors`], in the same order.
    pub fn tensors_mut(&mut self) -> Vec<&mut Param<D>> {
        match self {
            Layer::Conv { weight, bias, .. } => {
                let mut v = vec![weight];
                v.extend(bias.iter_mut());
                v
            }
            Layer::BatchNorm {
                gamma,
                beta,
                running_mean,
                running_var,
            } => {
                vec![gamma, beta, running_mean, running_var]
            }
            _ => Vec::new(),
        }
    }
}

/// Uniform(−1/√fan_in, 1/√fan_in): PyTorch's default for Conv2d and Linear
/// (kaiming_uniform with a = √5 for weights, and the same bound for biases).
pub fn pytorch_uniform<D: Device<f32>>(dev: &D, len: usize, fan_in: usize, rng: &mut impl Rng) -> Param<D> {
    let bound = 1.0 / (fan_in as f32).sqrt();
    let v = (0..len).map(|_| rng.gen_range(-bound..bound)).collect();
    dev.tensor_from_vec(v, (len,))
}

/// A convolution layer with PyTorch's default initialisation.
pub fn conv<D: Device<f32>>(
    dev: &D,
    geometry: ConvGeometry,
    bias: bool,
    input_grad: bool,
    rng: &mut impl Rng,
) -> Layer<D> {
    let fan_in = geometry.in_per_group() * geometry.kernel.0 * geometry.kernel.1;
    let weight = pytorch_uniform(dev, geometry.weight_len(), fan_in, rng);
    let bias = bias.then(|| pytorch_uniform(dev, geometry.out_channels, fan_in, rng));
    Layer::Conv {
        geometry,
        weight,
        bias,
        input_grad,
    }
}

/// A BatchNorm2d layer: gamma 1, beta 0, running mean 0, running variance 1.
pub fn batch_norm<D: Device<f32>>(dev: &D, channels: usize) -> Layer<D> {
    let full = |v: f32| dev.tensor_from_vec(vec![v; channels], (channels,));
    Layer::BatchNorm {
        gamma: full(1.0),
        beta: full(0.0),
        running_mean: full(0.0),
        running_var: full(1.0),
    }
}

/// The classifier: flatten then a dense layer (weight stored as PyTorch's (out, in)).
pub struct Linear<D: Device<f32>> {
    /// Inputs per example.
    pub in_features: usize,
    /// Outputs per example (classes).
    pub out_features: usize,
    /// Weights, (out, in) flattened.
    pub weight: Param<D>,
    /// Bias per output.
    pub bias: Param<D>,
}

impl<D: Device<f32>> Linear<D> {
    /// A dense layer with PyTorch's default initialisation.
    pub fn new(dev: &D, in_features: usize, out_features: usize, rng: &mut impl Rng) -> Self {
        let weight = pytorch_uniform(dev, in_features * out_features, in_features, rng);
        let bias = pytorch_uniform(dev, out_features, in_features, rng);
        Self {
            in_features,
            out_features,
            weight,
            bias,
        }
    }

    /// Flattens (n, c, h, w) and applies `x · Wᵀ + b`.
    pub fn forward<T: Tape<f32, D>>(&self, x: Act<D, T>) -> Tensor<(usize, usize), f32, D, T> {
        let n = x.shape().0;
        let x = x.reshape_like(&(n, self.in_features));
        let w = self
            .weight
            .retaped::<T>()
            .reshape_like(&(self.out_features, self.in_features))
            .permute::<_, Axes2<1, 0>>();
        let b = self
            .bias
            .retaped::<T>()
            .broadcast_like::<_, Axis<0>>(&(n, self.out_features));
        x.matmul(w) + b
    }
}
