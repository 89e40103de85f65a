//! Experiment files: a TOML description (data, defaults, grid, search) expanded into runs.
//!
//! Every value is checked before anything trains; an error names the file, line and
//! column, the key, and what is allowed.

mod distribution;
mod search_space;
mod sections;
mod tpe;

pub use search_space::{EarlyStopping, Metric, Sampler, Search};

use crate::config::{
    field_model, field_position, nest_fields, FindingsMetric, ModelKind, RunFields, RunSpec, SeedRounds,
};
use anyhow::{anyhow, bail, Result};
use distribution::Distribution;
use sections::{parse_metric, parse_rope, parse_seed_rounds};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::{Spanned, Value};

/// The file as written (before validation).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    /// One data source, or a list of them (a study over several data sets).
    data: Option<Spanned<Value>>,
    /// `pooled` (the default), `within-subject` or `cross-subject`: a default of every run.
    protocol: Option<Spanned<Value>>,
    /// A cross-subject protocol's folds: a default of every run.
    folds: Option<Spanned<Value>>,
    /// The subjects the study keeps, by name (default: all).
    subjects: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    defaults: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default)]
    grid: BTreeMap<Spanned<String>, Spanned<GridEntry>>,
    /// `samples`, an optional `seed`, and one distribution per field.
    search: Option<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
    /// How findings are judged: `rope` (points).
    findings: Option<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
    /// Seeds trained in rounds until decided: `until`, `start`, `step`, `max`.
    seeds: Option<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
}

/// A `[grid]` entry: an axis (`lr = [..]`), or a model's architecture axes
/// (`[grid.eegnet] f1 = [8, 16]`), each value with its place in the file.
enum GridEntry {
    Axis(Vec<Spanned<Value>>),
    Scoped(BTreeMap<Spanned<String>, Spanned<Vec<Spanned<Value>>>>),
}

impl<'de> Deserialize<'de> for GridEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = GridEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of values, or a model's table of lists ([grid.eegnet] f1 = [8, 16])")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<GridEntry, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element()? {
                    values.push(v);
                }
                Ok(GridEntry::Axis(values))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<GridEntry, A::Error> {
                let mut axes = BTreeMap::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    axes.insert(key, map.next_value()?);
                }
                Ok(GridEntry::Scoped(axes))
            }
        }
        d.deserialize_any(Entry)
    }
}

/// One grid axis as written: its key (scoped ones as `eegnet.f1`), where the key and the
/// list are, and the values with their places.
struct Axis<'a> {
    key: String,
    key_span: Range<usize>,
    values_span: Range<usize>,
    values: &'a [Spanned<Value>],
}

/// Entries of `[defaults]` or `[search]` with a model's table (`[defaults.eegnet] f1 = 8`)
/// spread into scoped keys (`eegnet.f1`), each with the span of its table; other entries
/// as they are.
fn spread_scoped(
    entries: &BTreeMap<Spanned<String>, Spanned<Value>>,
    is_leaf: impl Fn(&Value) -> bool,
) -> Vec<(String, Range<usize>, Range<usize>, Value)> {
    let mut out = Vec::new();
    for (key, value) in entries {
        let k = key.get_ref();
        match value.get_ref() {
            Value::Table(table) if k.parse::<ModelKind>().is_ok() && !is_leaf(value.get_ref()) => {
                for (field, v) in table {
                    out.push((format!("{k}.{field}"), key.span(), value.span(), v.clone()));
                }
            }
            v => out.push((k.clone(), key.span(), value.span(), v.clone())),
        }
    }
    out
}

/// One run of a search round: the sample it was drawn from and its resolved spec.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The searched values of this run (empty outside a search).
    pub sample: BTreeMap<String, Value>,
    /// The resolved settings.
    pub spec: RunSpec,
}

/// A validated experiment.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The experiment's name: its folder under the runs folder.
    pub name: String,
    /// One line on what it studies.
    pub description: String,
    /// `auto`, `synthetic[:SEED]` or a folder (relative to the current directory): the
    /// first of [`Experiment::data_sets`].
    pub data: String,
    /// Every data source of a study over several data sets (`data = [..]`), in the file's
    /// order; one entry otherwise.
    pub data_sets: Vec<String>,
    /// Values shared by every run.
    pub defaults: BTreeMap<String, Value>,
    /// Axes of the cartesian product, in `config::FIELDS` then `config::ARCHITECTURE_FIELDS` order.
    pub grid: Vec<(String, Vec<Value>)>,
    /// Number of search samples and their fields (none: one sample, nothing drawn).
    search: Option<Search>,
    /// The most runs the experiment may expand to (`--max-runs`).
    pub max_runs: usize,
    /// Margin of practical equivalence of the findings, as a fraction (`[findings] rope`,
    /// given in points).
    pub rope: f64,
    /// `[seeds] until = "decided"`: seeds added in rounds (none: the grid's seeds).
    pub seed_rounds: Option<SeedRounds>,
    /// What the findings compare (`[findings] metric`; plain accuracy by default).
    pub findings_metric: FindingsMetric,
    /// The subjects the study keeps (`subjects = [...]`; empty: all).
    pub subjects: Vec<String>,
    /// The experiment file's text as read (recorded with each declaration of the study).
    pub text: String,
}

/// Default for [`Experiment::max_runs`].
pub const DEFAULT_MAX_RUNS: usize = 100_000;
/// The longest experiment name (it names folders and plot files).
const MAX_NAME: usize = 100;
/// The deepest nesting of arrays and tables accepted in a file or a `--set` value.
const MAX_NESTING: usize = 16;

/// The deepest nesting of `[`/`{` in TOML text, outside strings and comments.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut quote, mut escaped, mut comment) = (None, false, false);
    for c in text.chars() {
        match (quote, c) {
            _ if comment => comment = c != '\n',
            (Some('"'), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => comment = true,
            (None, '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        escaped = false;
    }
    deepest
}

/// Where an error points.
struct Located<'a> {
    file: &'a Path,
    source: &'a str,
}

impl Located<'_> {
    fn error(&self, span: Range<usize>, message: impl std::fmt::Display) -> anyhow::Error {
        let before = &self.source[..span.start.min(self.source.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        anyhow!("{}:{line}:{column}: {message}", self.file.display())
    }
}

/// Checks `value` for field `key` on its own (see [`RunFields::check_field`]).
fn check_field(key: &str, value: &Value) -> Result<(), String> {
    RunFields::check_field(key, value.clone())
}

impl Experiment {
    /// Reads and validates an experiment file.
    pub fn load(path: &Path) -> Result<Self> {
        let source = crate::bounded_read::read_text(path, crate::bounded_read::RECORD_LIMIT)?
            .ok_or_else(|| anyhow!("{}: cannot read: no such file", path.display()))?;
        Self::parse(path, &source)
    }

    /// True when some run may follow a per-subject protocol (`protocol` other than pooled in
    /// the defaults, the grid or the search).
    pub fn varies_protocol(&self) -> bool {
        let per_subject = |v: &Value| v.as_str().is_some_and(|p| p != "pooled");
        self.defaults.get("protocol").is_some_and(per_subject)
            || self
                .grid
                .iter()
                .any(|(k, values)| k == "protocol" && values.iter().any(per_subject))
            || self
                .search
                .as_ref()
                .is_some_and(|s| s.fields.iter().any(|(k, _)| k == "protocol"))
    }

    /// True when the protocol or folds vary between runs (a grid or search axis).
    pub fn protocol_axis(&self) -> bool {
        let axis = |k: &str| k == "protocol" || k == "folds";
        self.grid.iter().any(|(k, _)| axis(k))
            || self
                .search
                .as_ref()
                .is_some_and(|s| s.fields.iter().any(|(k, _)| axis(k)))
    }

    /// The protocol and folds every run follows, from the defaults (pooled and 0 unless set).
    pub fn fixed_protocol(&self) -> Result<(crate::config::Protocol, usize)> {
        let protocol = match self.defaults.get("protocol").and_then(Value::as_str) {
            Some(p) => p.parse().map_err(|e: String| anyhow!(e))?,
            None => crate::config::Protocol::Pooled,
        };
        let folds = self
            .defaults
            .get("folds")
            .and_then(Value::as_integer)
            .unwrap_or(0)
            .max(0) as usize;
        Ok((protocol, folds))
    }

    /// Parses and validates experiment text (`path` is used in messages).
    pub fn parse(path: &Path, source: &str) -> Result<Self> {
        let at = Located { file: path, source };
        if nesting_depth(source) > MAX_NESTING {
            return Err(at.error(
                0..0,
                format!("arrays or tables nested more than {MAX_NESTING} levels deep"),
            ));
        }
        let file: ExperimentFile = toml::from_str(source).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at.error(span, e.message().trim().replace('\n', " "))
        })?;
        let name = file.name.get_ref().trim().to_string();
        let name_ok = !name.is_empty()
            && name.len() <= MAX_NAME
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.');
        if !name_ok {
            let message =
                format!("name '{name}': use letters, digits, '-', '_' or '.' (1 to {MAX_NAME} of them, not starting with '.'; it names the folder under runs/)");
            return Err(at.error(file.name.span(), message));
        }
        let data_sets: Vec<String> = match &file.data {
            None => vec!["auto".into()],
            Some(d) => {
                let listed: Vec<&Value> = match d.get_ref() {
                    Value::Array(items) if !items.is_empty() => items.iter().collect(),
                    Value::Array(_) => {
                        return Err(at.error(d.span(), "data is empty: give a data source, or a list of them"))
                    }
                    one => vec![one],
                };
                let mut sources: Vec<String> = Vec::new();
                for item in listed {
                    let Some(text) = item.as_str() else {
                        return Err(at.error(d.span(), format!("data: expected a folder, \"synthetic[:SEED[:TRIALS[:CxTxK]]]\" or \"auto\", or a list of them, got {item}")));
                    };
                    crate::data::Source::parse(text).map_err(|e| at.error(d.span(), format!("data: {e}")))?;
                    if sources.iter().any(|s| s == text) {
                        return Err(at.error(d.span(), format!("data: {text} is listed twice")));
                    }
                    sources.push(text.to_string());
                }
                sources
            }
        };
        let data = data_sets[0].clone();
        let mut defaults = BTreeMap::new();
        for (k, key_span, _, value) in spread_scoped(&file.defaults, |_| false) {
            check_field(&k, &value).map_err(|m| at.error(key_span, format!("defaults.{k}: {m}")))?;
            defaults.insert(k, value);
        }
        // `protocol` and `folds` sit beside `data` (they say which trials train each model)
        // and act as defaults of every run, so a grid axis or `--set` may vary them.
        for (key, value) in [("protocol", &file.protocol), ("folds", &file.folds)] {
            let Some(value) = value else { continue };
            check_field(key, value.get_ref()).map_err(|m| at.error(value.span(), format!("{key}: {m}")))?;
            if defaults.contains_key(key) {
                return Err(at.error(
                    value.span(),
                    format!("{key} is also in [defaults]; give it in one place"),
                ));
            }
            defaults.insert(key.to_string(), value.get_ref().clone());
        }
        let mut subjects: Vec<String> = Vec::new();
        if let Some(list) = &file.subjects {
            if list.get_ref().is_empty() {
                return Err(at.error(
                    list.span(),
                    "subjects is empty: name at least one subject, or leave it out for all",
                ));
            }
            for name in list.get_ref() {
                let text = name.get_ref().trim();
                if text.is_empty() || text.len() > 100 {
                    return Err(at.error(
                        name.span(),
                        "subjects: a subject's name as the trials CSV writes it (S001), 1 to 100 characters",
                    ));
                }
                if subjects.iter().any(|s| s == text) {
                    return Err(at.error(name.span(), format!("subjects: {text} is listed twice")));
                }
                subjects.push(text.to_string());
            }
        }
        // Every axis as (key, its place, the list's place, the values): plain ones and each
        // model's architecture axes ([grid.eegnet] f1 = [..] → eegnet.f1).
        let mut axes: Vec<Axis> = Vec::new();
        for (key, entry) in &file.grid {
            match entry.get_ref() {
                GridEntry::Axis(values) => axes.push(Axis {
                    key: key.get_ref().clone(),
                    key_span: key.span(),
                    values_span: entry.span(),
                    values,
                }),
                GridEntry::Scoped(scoped) if key.get_ref().parse::<ModelKind>().is_ok() => {
                    for (field, values) in scoped {
                        axes.push(Axis {
                            key: format!("{}.{}", key.get_ref(), field.get_ref()),
                            key_span: field.span(),
                            values_span: values.span(),
                            values: values.get_ref(),
                        });
                    }
                }
                GridEntry::Scoped(_) => {
                    let m = format!(
                        "grid.{}: a table here names a model's architecture ([grid.eegnet] or [grid.deepconvnet]); other settings take a list, e.g. lr = [1e-3, 1e-4]",
                        key.get_ref()
                    );
                    return Err(at.error(key.span(), m));
                }
            }
        }
        let mut grid = Vec::new();
        for Axis {
            key: k,
            key_span,
            values_span,
            values,
        } in axes
        {
            if field_position(&k).is_none() {
                let m = check_field(&k, &Value::Boolean(false)).unwrap_err();
                return Err(at.error(key_span, format!("grid.{k}: {m}")));
            }
            if values.is_empty() {
                return Err(at.error(values_span, format!("grid.{k} is empty: give at least one value")));
            }
            for v in values {
                check_field(&k, v.get_ref()).map_err(|m| at.error(v.span(), format!("grid.{k}: {m}")))?;
            }
            grid.push((k, values.iter().map(|v| v.get_ref().clone()).collect()));
        }
        grid.sort_by_key(|(k, _)| field_position(k));
        let search = match &file.search {
            None => None,
            Some(section) => Some(Self::parse_search(&at, section, &grid)?),
        };
        let mut rope = crate::config::DEFAULT_ROPE;
        let mut findings_metric = FindingsMetric::Accuracy;
        if let Some(section) = &file.findings {
            for (key, value) in section.get_ref() {
                match key.get_ref().as_str() {
                    "rope" => rope = parse_rope(value.get_ref()).map_err(|m| at.error(value.span(), m))?,
                    "metric" => findings_metric = parse_metric(value.get_ref()).map_err(|m| at.error(value.span(), m))?,
                    other => {
                        return Err(at.error(
                            key.span(),
                            format!("findings.{other}: unknown setting (the [findings] table takes rope = POINTS and metric = \"accuracy\" or \"balanced_accuracy\")"),
                        ))
                    }
                }
            }
        }
        let seed_rounds = match &file.seeds {
            None => None,
            Some(section) => {
                let rounds = parse_seed_rounds(section.get_ref())
                    .map_err(|(span, m)| at.error(if span.is_empty() { section.span() } else { span }, m))?;
                let fixed = grid.iter().any(|(k, _)| k == "seed") || defaults.contains_key("seed");
                if fixed || search.is_some() {
                    let clash = if fixed {
                        "a seed in [grid] or [defaults]"
                    } else {
                        "a [search]"
                    };
                    return Err(at.error(
                        section.span(),
                        format!("[seeds] chooses the seeds itself: remove {clash} or the [seeds] table"),
                    ));
                }
                Some(rounds)
            }
        };
        let experiment = Self {
            name,
            description: file.description,
            data,
            data_sets,
            defaults,
            grid,
            search,
            max_runs: DEFAULT_MAX_RUNS,
            rope,
            seed_rounds,
            findings_metric,
            subjects,
            text: source.to_string(),
        };
        Ok(experiment)
    }

    fn parse_search(
        at: &Located,
        section: &Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>,
        grid: &[(String, Vec<Value>)],
    ) -> Result<Search> {
        let mut search = Search::empty();
        // A distribution is a one-entry table of a list: `{ choice = [..] }`.
        let is_distribution = |v: &Value| {
            v.as_table()
                .is_some_and(|t| t.len() == 1 && t.values().all(Value::is_array))
        };
        for (k, key_span, value_span, value) in spread_scoped(section.get_ref(), is_distribution) {
            let k = k.as_str();
            if search_space::OPTIONS.contains(&k) {
                search.set_option(k, &value).map_err(|m| at.error(value_span, m))?;
                continue;
            }
            if grid.iter().any(|(g, _)| g == k) {
                let message = format!("search.{k}: '{k}' is also a grid key; give it in one place");
                return Err(at.error(key_span, message));
            }
            if field_position(k).is_none() {
                let m = check_field(k, &Value::Boolean(false)).unwrap_err();
                return Err(at.error(
                    key_span,
                    format!(
                        "search.{k}: {m} (or a search setting: {})",
                        search_space::OPTIONS.join(", ")
                    ),
                ));
            }
            let dist =
                Distribution::parse(k, &value).map_err(|m| at.error(value_span.clone(), format!("search.{k}: {m}")))?;
            for v in dist.extremes() {
                check_field(k, &v).map_err(|m| at.error(value_span.clone(), format!("search.{k}: {m}")))?;
            }
            search.fields.push((k.to_string(), dist));
        }
        if search.samples == 0 {
            return Err(at.error(
                section.span(),
                "search needs samples = N (how many configurations to draw)",
            ));
        }
        if search.fields.is_empty() {
            return Err(at.error(
                section.span(),
                "search has no fields to sample (e.g. lr = { log_uniform = [1e-4, 1e-2] })",
            ));
        }
        search.check().map_err(|m| at.error(section.span(), m))?;
        Ok(search)
    }

    /// Applies `--set key=value` overrides: a scalar replaces the key everywhere (defaults,
    /// grid, search); an array becomes a grid axis.
    pub fn apply_overrides(&mut self, overrides: &[String]) -> Result<()> {
        for text in overrides {
            let (key, raw) = text
                .split_once('=')
                .ok_or_else(|| anyhow!("--set '{text}': expected KEY=VALUE, e.g. --set epochs=2"))?;
            let key = key.trim();
            if nesting_depth(raw) > MAX_NESTING {
                bail!("--set {key}: value nested more than {MAX_NESTING} levels deep");
            }
            let value = parse_value(raw.trim());
            if key == "findings.rope" {
                self.rope = parse_rope(&value).map_err(|m| anyhow!("--set {m}"))?;
                continue;
            }
            if key == "findings.metric" {
                self.findings_metric = parse_metric(&value).map_err(|m| anyhow!("--set {m}"))?;
                continue;
            }
            if let Some(option) = key.strip_prefix("search.") {
                let search = self
                    .search
                    .as_mut()
                    .ok_or_else(|| anyhow!("--set {key}: experiment '{}' has no [search] section", self.name))?;
                search
                    .set_option(option, &value)
                    .map_err(|m| anyhow!("--set {key}: {m}"))?;
                continue;
            }
            if key == "seed" && self.seed_rounds.is_some() {
                bail!(
                    "--set {key}: experiment '{}' chooses its seeds in rounds ([seeds] until = \"decided\"); change [seeds] start, step or max instead",
                    self.name
                );
            }
            self.grid.retain(|(k, _)| k != key);
            if let Some(search) = &mut self.search {
                search.fields.retain(|(k, _)| k != key);
            }
            self.defaults.remove(key);
            match value {
                Value::Array(values) => {
                    if values.is_empty() {
                        bail!("--set {key}: the list is empty");
                    }
                    for v in &values {
                        check_field(key, v).map_err(|m| anyhow!("--set {key}: {m}"))?;
                    }
                    self.grid.push((key.to_string(), values));
                    self.grid.sort_by_key(|(k, _)| field_position(k));
                }
                value => {
                    check_field(key, &value).map_err(|m| anyhow!("--set {key}: {m}"))?;
                    self.defaults.insert(key.to_string(), value);
                }
            }
        }
        if let Some(search) = &self.search {
            search.check().map_err(|m| anyhow!("with the --set overrides: {m}"))?;
        }
        if self.search.as_ref().is_some_and(|s| s.fields.is_empty()) {
            self.search = None;
        }
        Ok(())
    }

    /// The number of runs (grid product × search samples); `None` when it overflows.
    pub fn run_count(&self) -> Option<usize> {
        let samples = self.search.as_ref().map_or(1, |s| s.samples);
        self.grid
            .iter()
            .try_fold(samples, |n, (_, values)| n.checked_mul(values.len()))
    }

    /// The search section, if any.
    pub fn search(&self) -> Option<&Search> {
        self.search.as_ref()
    }

    /// Every run's resolved spec: grid product × search samples, in a stable order. For a
    /// TPE search, whose later rounds depend on results, use [`Experiment::round_runs`].
    pub fn runs(&self) -> Result<Vec<RunSpec>> {
        self.check_size()?;
        if let Some(search) = self.search.as_ref().filter(|s| s.sampler == Sampler::Tpe) {
            bail!(
                "experiment '{}': its {} rounds of TPE samples are drawn from the results of the earlier rounds",
                self.name,
                search.rounds
            );
        }
        let samples = self.search.as_ref().map_or(vec![BTreeMap::new()], Search::draw);
        Ok(self.expand(&samples)?.into_iter().map(|c| c.spec).collect())
    }

    /// Checks, before any data is loaded, that the runs can be expanded: their number, and
    /// for a search that selects by results, that it can (see [`Experiment::round_runs`]).
    pub fn check_runs(&self) -> Result<()> {
        self.round_runs(0, &[]).map(drop)
    }

    /// The runs of search round `round` (grid product × the round's samples), drawn given
    /// the earlier rounds' samples ranked best first (see [`Search::draw_round`]).
    pub fn round_runs(&self, round: usize, ranked: &[BTreeMap<String, Value>]) -> Result<Vec<Candidate>> {
        self.check_size()?;
        let samples = match &self.search {
            None => vec![BTreeMap::new()],
            Some(search) => search.draw_round(round, ranked),
        };
        let candidates = self.expand(&samples)?;
        if let Some(search) = self.search.as_ref().filter(|s| s.selects()) {
            self.check_selectable(search, &candidates)?;
        }
        Ok(candidates)
    }

    /// Refuses, before anything is expanded, more runs than [`Experiment::max_runs`].
    fn check_size(&self) -> Result<()> {
        let count = self.run_count();
        if count.is_none_or(|n| n > self.max_runs) {
            let mut axes: Vec<String> = self.grid.iter().map(|(k, v)| format!("{k} {}", v.len())).collect();
            if let Some(search) = &self.search {
                axes.push(format!("search samples {}", search.samples));
            }
            bail!(
                "experiment '{}' expands to {} runs ({}), more than the limit of {}; shrink the grid or raise --max-runs",
                self.name,
                count.map_or("more than 2^64".into(), |n| n.to_string()),
                axes.join(" × "),
                self.max_runs
            );
        }
        Ok(())
    }

    /// A search that stops or samples by results needs validation data, and early stopping
    /// needs one epoch count with its first rung below it.
    fn check_selectable(&self, search: &Search, candidates: &[Candidate]) -> Result<()> {
        let name = &self.name;
        if let Some((field, _)) = search.fields.iter().find(|(k, _)| k == "val_fraction" || k == "epochs") {
            bail!("experiment '{name}': search.{field} cannot be searched when the search selects by validation results (runs are compared on one validation split at the same epochs); set it in [defaults]");
        }
        if candidates.iter().any(|c| c.spec.val_fraction == 0.0) {
            bail!(
                "experiment '{name}': its search {} by validation results, but val_fraction is 0; selecting on the test set leaks it into the choice and inflates the reported accuracy — set val_fraction (e.g. 0.2) in [defaults]",
                if search.early_stopping.is_some() { "stops runs early" } else { "samples with TPE" }
            );
        }
        if let Some(es) = &search.early_stopping {
            let epochs = candidates[0].spec.epochs;
            if candidates.iter().any(|c| c.spec.epochs != epochs) {
                bail!("experiment '{name}': early stopping needs every run to have the same epochs (its rungs are epochs); do not vary epochs in [grid] or [search]");
            }
            if es.min_epochs >= epochs {
                bail!(
                    "experiment '{name}': search.early_stopping.min_epochs = {} must be below epochs = {epochs}, or nothing is stopped early",
                    es.min_epochs
                );
            }
        }
        Ok(())
    }

    /// Grid product × `samples`, resolved. (Every value was checked on its own when it was
    /// read, and no field's range depends on another, so expansion cannot fail on a value.)
    fn expand(&self, samples: &[BTreeMap<String, Value>]) -> Result<Vec<Candidate>> {
        let mut points: Vec<BTreeMap<String, Value>> = vec![self.defaults.clone()];
        for (key, values) in &self.grid {
            points = points
                .iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.insert(key.clone(), v.clone());
                        q
                    })
                })
                .collect();
        }
        let mut candidates: Vec<Candidate> = Vec::with_capacity(points.len() * samples.len());
        for point in &points {
            for sample in samples {
                let table = nest_fields(point.iter().chain(sample));
                let fields: RunFields = table
                    .try_into()
                    .map_err(|e: toml::de::Error| anyhow!("{}", e.message().trim()))?;
                let spec = fields
                    .resolve()
                    .map_err(|e| anyhow!("experiment '{}': {e}", self.name))?;
                // An architecture axis of one model multiplies only that model's runs:
                // the other model's runs it leaves the same, and they are listed once.
                if !candidates.iter().any(|c| c.spec == spec) {
                    candidates.push(Candidate {
                        sample: sample.clone(),
                        spec,
                    });
                }
            }
        }
        self.check_scoped(&candidates)?;
        Ok(candidates)
    }

    /// Refuses an architecture field of a model that no run of the study trains.
    fn check_scoped(&self, candidates: &[Candidate]) -> Result<()> {
        let keys = self
            .defaults
            .keys()
            .map(|k| ("defaults", k))
            .chain(self.grid.iter().map(|(k, _)| ("grid", k)))
            .chain(
                self.search
                    .iter()
                    .flat_map(|s| s.fields.iter().map(|(k, _)| ("search", k))),
            );
        for (section, key) in keys {
            let Some(model) = field_model(key) else { continue };
            if !candidates.iter().any(|c| c.spec.model == model) {
                let trained: Vec<String> = ModelKind::ALL
                    .iter()
                    .filter(|m| candidates.iter().any(|c| c.spec.model == **m))
                    .map(|m| m.to_string())
                    .collect();
                bail!(
                    "experiment '{}': {section}.{key} sets {model}'s architecture, but the study trains no {model} runs (model = {})",
                    self.name,
                    trained.join(", ")
                );
            }
        }
        Ok(())
    }

    /// Data source, as written.
    pub fn data_source(&self) -> &str {
        &self.data
    }
}

/// A command-line value: TOML when it parses (numbers, booleans, arrays, quoted strings),
/// else a bare string (`--set model=eegnet`); `[a,b]` of bare words is a list of strings.
fn parse_value(raw: &str) -> Value {
    let toml_value = |text: &str| {
        toml::from_str::<toml::Table>(&format!("v = {text}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
    };
    if let Some(value) = toml_value(raw) {
        return value;
    }
    match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(items) => Value::Array(items.split(',').map(|item| parse_value(item.trim())).collect()),
        None => Value::String(raw.to_string()),
    }
}

/// The experiment file for a name or path (`experiments/NAME.toml` when given a bare name).
pub fn resolve_path(arg: &str) -> PathBuf {
    let path = PathBuf::from(arg);
    if path.exists() || arg.ends_with(".toml") {
        path
    } else {
        Path::new("experiments").join(format!("{arg}.toml"))
    }
}
