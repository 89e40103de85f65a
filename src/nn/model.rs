//! EEGNet and DeepConvNet exactly as in the lab (see `torch_ref.py`).

use super::backend::Backend;
use super::layers::{batch_norm, conv, Layer, Linear, Named};
use super::ops::{Act, Activation, ConvGeometry, Pool, Shape4};
pub use crate::config::ModelKind;
use crate::config::RunSpec;
use crate::data::{CHANNELS, CLASSES, SAMPLES};
use dfdx::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Everything that determines a model's structure.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Which network.
    pub kind: ModelKind,
    /// Its activation.
    pub activation: Activation,
    /// Its dropout probability.
    pub dropout: f32,
}

impl From<&RunSpec> for ModelSpec {
    fn from(spec: &RunSpec) -> Self {
        Self {
            kind: spec.model,
            activation: spec.activation.into(),
            dropout: spec.dropout as f32,
        }
    }
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
    /// Builds the model with PyTorch's default initialisation drawn from `rng`.
    pub fn new(dev: &D, spec: ModelSpec, rng: &mut impl Rng) -> Self {
        let act = Layer::Activation(spec.activation);
        let p = spec.dropout;
        let mut features: Vec<(String, Layer<D>)> = Vec::new();
        let mut push = |name: &str, layer| features.push((name.to_string(), layer));
        let classifier_name;
        let in_features;
        match spec.kind {
            ModelKind::EegNet => {
                push(
                    "firstconv.0",
                    conv(dev, ConvGeometry::new(1, 16, (1, 51), 25, 1), false, false, rng),
                );
                push("firstconv.1", batch_norm(dev, 16));
                push(
                    "depthwise.0",
                    conv(dev, ConvGeometry::new(16, 32, (2, 1), 0, 16), false, true, rng),
                );
                push("depthwise.1", batch_norm(dev, 32));
                push("depthwise.2", act);
                push("depthwise.3", Layer::Pool(Pool::Avg(4)));
                push("depthwise.4", Layer::Dropout(p));
                push(
                    "separable.0",
                    conv(dev, ConvGeometry::new(32, 32, (1, 15), 7, 1), false, true, rng),
                );
                push("separable.1", batch_norm(dev, 32));
                push("separable.2", Layer::Activation(spec.activation));
                push("separable.3", Layer::Pool(Pool::Avg(8)));
                push("separable.4", Layer::Dropout(p));
                classifier_name = "classify.1";
                in_features = 32 * 23;
            }
            ModelKind::DeepConvNet => {
                push(
                    "features.0",
                    conv(dev, ConvGeometry::new(1, 25, (1, 5), 0, 1), true, false, rng),
                );
                push(
                    "features.1",
                    conv(dev, ConvGeometry::new(25, 25, (2, 1), 0, 1), true, true, rng),
                );
                let mut index = 2;
                let mut channels = 25;
                for (block, out) in [25, 50, 100, 200].into_iter().enumerate() {
                    if block > 0 {
                        let g = ConvGeometry::new(channels, out, (1, 5), 0, 1);
                        push(&format!("features.{index}"), conv(dev, g, true, true, rng));
                        index += 1;
                    }
                    push(&format!("features.{index}"), batch_norm(dev, out));
                    push(&format!("features.{}", index + 1), Layer::Activation(spec.activation));
                    push(&format!("features.{}", index + 2), Layer::Pool(Pool::Max(2)));
                    push(&format!("features.{}", index + 3), Layer::Dropout(p));
                    index += 4;
                    channels = out;
                }
                classifier_name = "classify.1";
                in_features = 200 * 43;
            }
        }
        let classifier = (classifier_name.to_string(), Linear::new(dev, in_features, CLASSES, rng));
        let (layer_names, layers) = features.into_iter().unzip();
        Self {
            spec,
            layers,
            layer_names,
            classifier,
        }
    }

    /// Logits (n, classes) for a batch (n, 1, 2, 750).
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

    /// Number of learnable parameters (EEGNet 17,874; DeepConvNet 150,977).
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
        let mut shape = (1, CHANNELS, SAMPLES);
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
        let mut shape = (1, CHANNELS, SAMPLES);
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
