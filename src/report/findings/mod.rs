//! What a study's finished runs say, as data: the report's tables in its layout, every
//! comparison of the study's declared family with its verdict (see [`super::stats`]), and,
//! for designed studies, the lab report's claims answered. `findings.json`, `summarize`'s
//! text and the HTML report are all rendered from [`StudyFindings`].
//!
//! One job per file: `model` (the data), `labels` (settings and labels), `families` (studies,
//! their families and findings), `methods` (the paragraph for a paper), `sentences` (a verdict in words), `rounds` (seed rounds: who goes on, and the rounds retraced), `factorial` (a grid's main effects, interactions and best with its ties), `claims` (the lab report's
//! claims), `lab_tables` (the lab's layout), `subjects` (results per subject), `combined` (across data sets) and one renderer per format (`text`, `markdown`, `latex`, `csv`,
//! `json`).

mod claims;
mod combined;
mod csv;
mod factorial;
mod families;
mod json;
mod lab_tables;
mod labels;
mod latex;
mod markdown;
mod methods;
mod model;
mod rounds;
mod sentences;
mod subjects;
mod text;

pub use combined::{combined, combined_text, CombinedFinding};
pub use csv::comparisons_csv;
pub use families::{studies, target};
pub use json::to_json;
pub use lab_tables::{lab_tables, tables, LabTable};
pub use labels::{labels, setting, significant, varying};
pub use latex::{latex, table as latex_table, without_constant_columns};
pub use markdown::markdown;
pub use model::{
    BestAndTies, Claim, ClaimVerdict, ComparisonFindings, Config, ConfigFindings, Factorial, Interaction, Kind,
    LevelMean, MainEffect, Ranked, Study, StudyFindings, LARGE_STUDY,
};
pub use rounds::{open_keys, rounds_told, Look, RoundsTold};
pub use sentences::p_text;
pub use subjects::{subject_tables, subjects_csv, subjects_text, SubjectTable};
pub use text::{comparisons, findings, main_effects, targets, TOP};
