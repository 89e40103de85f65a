//! Adam exactly as `torch.optim.Adam` (L2 weight decay added to the gradient).

use super::backend::Backend;
use super::ops::Param;
use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

/// Adam hyperparameters (PyTorch defaults: betas (0.9, 0.999), eps 1e-8).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// β₁ and β₂.
    pub betas: (f32, f32),
    /// ε.
    pub eps: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

/// Optimiser state: step count and the two moment estimates per parameter.
pub struct Adam<D: Backend> {
    /// Its hyperparameters.
    pub config: AdamConfig,
    /// Steps taken (for the bias corrections).
    pub step: u64,
    /// Running mean of the gradients, per parameter.
    pub first_moment: Vec<Param<D>>,
    /// Running mean of the squared gradients, per parameter.
    pub second_moment: Vec<Param<D>>,
}

impl<D: Backend> Adam<D> {
    /// Zero moments for parameters of the given lengths.
    pub fn new(dev: &D, config: AdamConfig, lengths: &[usize]) -> Self {
        let zeros = || lengths.iter().map(|&n| dev.zeros_like(&(n,))).collect();
        Self {
            config,
            step: 0,
            first_moment: zeros(),
            second_moment: zeros(),
        }
    }

    /// One update of every parameter from its gradient in `grads`.
    pub fn update(&mut self, params: Vec<&mut Param<D>>, grads: &Gradients<f32, D>) {
        assert_eq!(params.len(), self.first_moment.len(), "Adam: parameter count");
        self.step += 1;
        let AdamConfig {
            lr,
            betas: (b1, b2),
            eps,
            weight_decay,
        } = self.config;
        let bias1 = 1.0 - (b1 as f64).powi(self.step as i32);
        let bias2_sqrt = (1.0 - (b2 as f64).powi(self.step as i32)).sqrt();
        let step_size = (lr as f64 / bias1) as f32;
        for ((p, m), v) in params
            .into_iter()
            .zip(&mut self.first_moment)
            .zip(&mut self.second_moment)
        {
            let mut g = grads.get(&*p);
            if weight_decay != 0.0 {
                g = g + p.clone() * weight_decay;
            }
            *m = m.clone() * b1 + g.clone() * (1.0 - b1);
            *v = v.clone() * b2 + g.square() * (1.0 - b2);
            let denom = (v.clone().sqrt() / bias2_sqrt as f32) + eps;
            *p = p.clone() - (m.clone() / denom) * step_size;
        }
    }
}
