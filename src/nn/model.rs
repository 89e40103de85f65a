//! EEGNet and DeepConvNet as in the lab (see `torch_ref.py`), for any data shape and
//! architecture.

use super::backend::Backend;
use super::layers::{batch_norm, conv, Layer, Linear, Named};
use super::ops::{Act, Activation, ConvGeometry, Pool, Shape4};
pub use crate::config::ModelKind;
use crate::config::{DeepConvNetArch, EegNetArch, RunSpec};
use crate::data::Shape;
use dfdx::prelude::*;
use rand::Rng;

/// Everything that determines a model's structure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelSpec {
    /// Which network.
    pub kind: ModelKind,
    /// Its activation.
    pub activation: Activation,
    /// Its dropout probability.
    pub dropout: f32,
    /// The data's channels, samples and classes.
    pub shape: Shape,
    /// EEGNet's architecture (read when `kind` is EEGNet).
    pub eegnet: EegNetArch,
    /// DeepConvNet's architecture (read when `kind` is DeepConvNet).
    pub deepconvnet: DeepConvNetArch,
}

impl ModelSpec {
    /// The model a run of `spec` trains on data of `shape`.
    pub fn new(spec: &RunSpec, shape: Shape) -> Self {
        Self {
            kind: spec.model,
            activation: spec.activation.into(),
            dropout: spec.dropout as f32,
            shape,
            eegnet: spec.eegnet,
            deepconvnet: spec.deepconvnet,
        }
    }

    /// The lab's model of `kind` (the lab's shape and architecture) with this activation
    /// and the model's dropout.
    pub fn lab(kind: ModelKind, activation: Activation) -> Self {
        let spec = RunSpec {
            model: kind,
            ..RunSpec::default()
        };
        Self {
            activation,
            ..Self::new(&spec, Shape::LAB)
        }
    }

    /// Checks that the window reaches the classifier through every convolution and pooling
    /// with at least one sample, and that no kernel is longer than what reaches it; the
    /// message names the value, the limit and the smallest window this model accepts.
    pub fn check(&self) -> Result<(), String> {
        let t = self.shape.samples;
        let (problem, smallest) = match self.kind {
            ModelKind::EegNet => {
                let a = &self.eegnet;
                let smallest = a.kernel.max(a.pool1 * a.pool2).max(a.pool1 * a.separable_kernel);
                let problem = if a.kernel > t {
                    Some(format!(
                        "eegnet.kernel = {} is longer than the {t}-sample window",
                        a.kernel
                    ))
                } else if t / a.pool1 < a.separable_kernel {
                    Some(format!(
                        "eegnet.separable_kernel = {} is longer than the {} samples left after pool1 = {}",
                        a.separable_kernel,
                        t / a.pool1,
                        a.pool1
                    ))
                } else if t / a.pool1 / a.pool2 == 0 {
                    Some(format!(
                        "pooling by eegnet.pool1 × eegnet.pool2 = {} is wider than the {t}-sample window",
                        a.pool1 * a.pool2
                    ))
                } else {
                    None
                };
                (problem, smallest)
            }
            ModelKind::DeepConvNet => {
                let (k, p) = (self.deepconvnet.kernel, self.deepconvnet.pool);
                let smallest = (0..4).fold(1, |after, _| after * p + k - 1);
                let problem = deepconvnet_widths(t, k, p).is_none().then(|| {
                    format!("four blocks of a {k}-sample convolution and pooling by {p} leave nothing of the {t}-sample window")
                });
                (problem, smallest)
            }
        };
        match problem {
            None => Ok(()),
            Some(problem) => Err(format!(
                "{}: {problem}; with this architecture {} needs windows of at least {smallest} samples",
                self.kind, self.kind
            )),
        }
    }
}

/// The window left after each of DeepConvNet's four blocks (convolution of `k` samples
/// without padding, then max-pooling by `p`); `None` when one leaves nothing.
fn deepconvnet_widths(t: usize, k: usize, p: usize) -> Option<usize> {
    (0..4).try_fold(t, |t, _| (t + 1).checked_sub(k).map(|c| c / p).filter(|&w| w > 0))
}

/// A built model: feature layers, their PyTorch `state_dict` prefixes, and the classifier.
pub struct Model<D: Backend> {
    /// What it was built from.
    pub spec: ModelSpec,
    /// The feature layers, in order.
    pub layers: Vec<Layer<D>>,
    /// Each feature layer's name, as in PyTorch's state dict.
    pub layer_names: Vec<String>,
    /// The classifier's name and layer.
    pub classifier: (String, Linear<D>),
}

impl<D: Backend> Model<D> {
    /// Builds the model with PyTorch's default initialisation drawn from `rng`, layer for
    /// layer as `torch_ref.py`'s `build_model` (the spec must pass [`ModelSpec::check`]).
    pub fn new(dev: &D, spec: ModelSpec, rng: &mut impl Rng) -> Self {
        let act = Layer::Activation(spec.activation);
        let p = spec.dropout;
        let Shape {
            channels,
            samples,
            classes,
        } = spec.shape;
        let mut features: Vec<(String, Layer<D>)> = Vec::new();
        let mut push = |name: &str, layer| features.push((name.to_string(), layer));
        let in_features;
        match spec.kind {
            ModelKind::EegNet => {
                let a = spec.eegnet;
                let (f1, f1d) = (a.f1, a.f1 * a.d);
                let temporal = ConvGeometry::new(1, f1, (1, a.kernel), a.kernel / 2, 1);
                push("firstconv.0", conv(dev, temporal, false, false, rng));
                push("firstconv.1", batch_norm(dev, f1));
                let spatial = ConvGeometry::new(f1, f1d, (channels, 1), 0, f1);
                push("depthwise.0", conv(dev, spatial, false, true, rng));
                push("depthwise.1", batch_norm(dev, f1d));
                push("depthwise.2", act);
                push("depthwise.3", Layer::Pool(Pool::Avg(a.pool1)));
                push("depthwise.4", Layer::Dropout(p));
                let k = a.separable_kernel;
                let separable = ConvGeometry::new(f1d, a.f2, (1, k), k / 2, 1);
                push("separable.0", conv(dev, separable, false, true, rng));
                push("separable.1", batch_norm(dev, a.f2));
                push("separable.2", Layer::Activation(spec.activation));
                push("separable.3", Layer::Pool(Pool::Avg(a.pool2)));
                push("separable.4", Layer::Dropout(p));
                in_features = a.f2 * (samples / a.pool1 / a.pool2);
            }
            ModelKind::DeepConvNet => {
                let a = spec.deepconvnet;
                let f = a.filters;
                let temporal = ConvGeometry::new(1, f[0], (1, a.kernel), 0, 1);
                push("features.0", conv(dev, temporal, true, false, rng));
                let spatial = ConvGeometry::new(f[0], f[1], (channels, 1), 0, 1);
                push("features.1", conv(dev, spatial, true, true, rng));
                let mut index = 2;
                let mut in_channels = f[1];
                for (block, out) in f[1..].iter().copied().enumerate() {
                    if block > 0 {
                        let g = ConvGeometry::new(in_channels, out, (1, a.kernel), 0, 1);
                        push(&format!("features.{index}"), conv(dev, g, true, true, rng));
                        index += 1;
                    }
                    push(&format!("features.{index}"), batch_norm(dev, out));
                    push(&format!("features.{}", index + 1), Layer::Activation(spec.activation));
                    push(&format!("features.{}", index + 2), Layer::Pool(Pool::Max(a.pool)));
                    push(&format!("features.{}", index + 3), Layer::Dropout(p));
                    index += 4;
                    in_channels = out;
                }
                in_features = f[4] * deepconvnet_widths(samples, a.kernel, a.pool).unwrap_or(0);
            }
        }
        let classifier = ("classify.1".to_string(), Linear::new(dev, in_features, classes, rng));
        let (layer_names, layers) = features.into_iter().unzip();
        Self {
            spec,
            layers,
            layer_names,
            classifier,
        }
    }

    /// Logits (n, classes) for a batch (n, 1, channels, samples).
    pub fn forward<T: Tape<f32, D>>(
        &mut self,
        x: Act<D, T>,
        training: bool,
        rng: &mut impl Rng,
    ) -> Tensor<(usize, usize), f32, D, T> {
        let x = D::forward_layers(x, &mut self.layers, training, rng);
        self.classifier.1.forward(x)
    }

    /// All tensors (parameters and running statistics) in PyTorch's `state_dict` order.
    pub fn tensors(&self) -> Vec<Named<'_, D>> {
        let mut all: Vec<Named<'_, D>> = self
            .layers
            .iter()
            .zip(&self.layer_names)
            .flat_map(|(layer, prefix)| layer.tensors(prefix))
            .collect();
        let (prefix, linear) = &self.classifier;
        for (suffix, tensor) in [("weight", &linear.weight), ("bias", &linear.bias)] {
            all.push(Named {
                name: format!("{prefix}.{suffix}"),
                tensor,
                learnable: true,
            });
        }
        all
    }

    /// Mutable tensors, in the same order as [`Model::tensors`].
    pub fn tensors_mut(&mut self) -> Vec<&mut super::ops::Param<D>> {
        let mut all: Vec<&mut super::ops::Param<D>> =
            self.layers.iter_mut().flat_map(|layer| layer.tensors_mut()).collect();
        all.push(&mut self.classifier.1.weight);
        all.push(&mut self.classifier.1.bias);
        all
    }

    /// The learnable parameters only, in the same order (what the optimiser updates).
    pub fn learnable_mut(&mut self) -> Vec<&mut super::ops::Param<D>> {
        let learnable: Vec<bool> = self.tensors().iter().map(|t| t.learnable).collect();
        self.tensors_mut()
            .into_iter()
            .zip(learnable)
            .filter_map(|(t, l)| l.then_some(t))
            .collect()
    }

    /// Lengths of the learnable parameters, in order (what the optimiser's state mirrors).
    pub fn learnable_lengths(&self) -> Vec<usize> {
        self.tensors()
            .iter()
            .filter(|t| t.learnable)
            .map(|t| t.tensor.shape().0)
            .collect()
    }

    /// Number of learnable parameters (EEGNet 17,874; DeepConvNet 150,977 on the lab's data).
    pub fn parameter_count(&self) -> usize {
        self.tensors()
            .iter()
            .filter(|t| t.learnable)
            .map(|t| t.tensor.shape().0)
            .sum()
    }

    /// Each convolution of the feature layers for a batch of `batch` trials: its name, its
    /// geometry, its input's shape, and whether its input gradient is computed.
    pub fn convolutions(&self, batch: usize) -> Vec<(String, ConvGeometry, Shape4, bool)> {
        let mut shape = (1, self.spec.shape.channels, self.spec.shape.samples);
        let mut out = Vec::new();
        for (layer, name) in self.layers.iter().zip(&self.layer_names) {
            if let Layer::Conv {
                geometry, input_grad, ..
            } = layer
            {
                out.push((name.clone(), *geometry, (batch, shape.0, shape.1, shape.2), *input_grad));
            }
            shape = layer.output_shape(shape);
        }
        out
    }

    /// Rows (layer, output shape, parameters) like the report's summary tables.
    pub fn summary(&self) -> Vec<(String, String, usize)> {
        let mut shape = (1, self.spec.shape.channels, self.spec.shape.samples);
        let mut rows = Vec::new();
        for (layer, name) in self.layers.iter().zip(&self.layer_names) {
            shape = layer.output_shape(shape);
            let params = layer
                .tensors(name)
                .iter()
                .filter(|t| t.learnable)
                .map(|t| t.tensor.shape().0)
                .sum();
            rows.push((
                format!("{name} {}", layer.kind()),
                format!("[-1, {}, {}, {}]", shape.0, shape.1, shape.2),
                params,
            ));
        }
        let flat = shape.0 * shape.1 * shape.2;
        rows.push(("Flatten".into(), format!("[-1, {flat}]"), 0));
        let (name, linear) = &self.classifier;
        rows.push((
            format!("{name} Linear"),
            format!("[-1, {}]", linear.out_features),
            linear.in_features * linear.out_features + linear.out_features,
        ));
        rows
    }
}
