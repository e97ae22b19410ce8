//! The report of a run, from the measurements to the files: pure functions
//! of the data, tested on fixtures, that neither start processes nor touch
//! the file system.
//!
//! `model` is the data and `report.json`; `stats` derives ratios and the
//! median over passes; `markdown` renders the table and `report.md`;
//! `baseline` the change against an earlier `report.json`; `chart` works
//! out what `report.svg` shows and `svg` draws it. Each imports only the
//! ones listed before it.

pub(crate) mod baseline;
pub(crate) mod chart;
#[cfg(test)]
pub(crate) mod fixtures;
pub(crate) mod markdown;
pub(crate) mod model;
pub(crate) mod stats;
pub(crate) mod svg;
