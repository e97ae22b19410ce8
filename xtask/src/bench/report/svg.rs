//! `report.svg`: the report as a picture, drawn with `plotters`' SVG
//! backend.
//!
//! The chart has a header (what ran where, and a legend), then two panels:
//!
//! - **Ratios per scenario.** One row per scenario, one dot per peer at
//!   that peer's time divided by Weft's, on a logarithmic axis so that
//!   "twice as fast" and "half as fast" sit the same distance from the
//!   black 1.0 line. Right of the line Weft is faster; the shaded band
//!   left of it is where Weft is behind.
//! - **Thread sweeps.** For every `*_sweep` scenario, one small chart of
//!   the same ratio against the thread count, one line per peer, so that a
//!   reader sees how each primitive behaves past the core count.
//!
//! A peer keeps its colour across all panels. What to draw comes from
//! `chart.rs`; this file only draws.

use std::iter;
use std::ops::Range;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{RatioRow, Sweep, format_tick, ratio_axis, ratio_rows, sweeps};
use super::model::{Mode, Report};

/// The width of the whole chart, in pixels.
const WIDTH: u32 = 1000;

/// The height of the header: title, machine facts and legend.
const HEADER_HEIGHT: u32 = 128;

/// The height of one scenario row in the upper panel.
const ROW_HEIGHT: u32 = 24;

/// The height of the upper panel apart from its rows: caption, axis labels
/// and margins.
const RATIO_PANEL_CHROME: u32 = 110;

/// The height of one row of sweep charts.
const SWEEP_HEIGHT: u32 = 330;

/// The most sweep charts side by side.
const SWEEPS_PER_ROW: usize = 3;

/// The peers' colours, in order of first appearance (Tableau 10 without its
/// red, which would read as "behind").
const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of the 1.0 line, where a peer is exactly as fast as Weft.
const PARITY: RGBColor = RGBColor(0, 0, 0);

/// The shade of the region where Weft is behind (a ratio below 1.0).
const BEHIND_SHADE: RGBColor = RGBColor(253, 226, 226);

/// The font of every text in the chart.
const FONT: &str = "sans-serif";

/// The upper panel's vertical axis: one unit per scenario row, from 0 at
/// the bottom to `top`, with the grid lines and labels at the rows'
/// centres. (Plotters' own linear axis picks round numbers instead.)
#[derive(Debug, Clone)]
struct RowAxis {
    /// The value at the top edge: the row count plus some headroom.
    top: f64,
    /// The centre of every row, where its label goes.
    centers: Vec<f64>,
}

impl Ranged for RowAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let fraction = value / self.top;
        limit.0 + (f64::from(limit.1 - limit.0) * fraction).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only "bold" key points: one line and one label per row.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.centers.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        0.0..self.top
    }
}

/// Draws the chart of `report` and returns the SVG document.
pub(crate) fn render_svg(report: &Report) -> Result<String> {
    let rows = ratio_rows(report);
    let sweeps = sweeps(report);

    // Colours follow the peers' first appearance anywhere in the chart.
    let mut peers: Vec<String> = Vec::new();
    let row_peers = rows
        .iter()
        .flat_map(|row| row.ratios.iter().map(|(p, _)| p));
    let sweep_peers = sweeps.iter().flat_map(|s| s.lines.iter().map(|(p, _)| p));
    for peer in row_peers.chain(sweep_peers) {
        if !peers.contains(peer) {
            peers.push(peer.clone());
        }
    }
    let color_of = |peer: &str| {
        let index = peers.iter().position(|p| p == peer).unwrap_or(0);
        PALETTE[index % PALETTE.len()]
    };

    let ratio_panel_height = RATIO_PANEL_CHROME + ROW_HEIGHT * rows.len().max(1) as u32;
    let sweep_rows = sweeps.len().div_ceil(SWEEPS_PER_ROW) as u32;
    let height = HEADER_HEIGHT + ratio_panel_height + SWEEP_HEIGHT * sweep_rows;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (header, rest) = root.split_vertically(HEADER_HEIGHT);
        let (ratio_area, sweep_area) = rest.split_vertically(ratio_panel_height);

        draw_header(&header, report, &peers, &color_of)?;
        draw_ratio_panel(&ratio_area, &rows, &peers, &color_of)?;
        if !sweeps.is_empty() {
            let all_ratios = sweeps.iter().flat_map(|s| {
                s.lines
                    .iter()
                    .flat_map(|(_, points)| points.iter().map(|p| p.1))
            });
            let axis = ratio_axis(all_ratios);
            // Rows first, then the panels of each row, so that the panels
            // come out in reading order whatever order plotters splits a
            // two-dimensional grid in.
            let grid: Vec<_> = sweep_area
                .split_evenly((sweep_rows as usize, 1))
                .into_iter()
                .flat_map(|row| row.split_evenly((1, SWEEPS_PER_ROW)))
                .collect();
            for (sweep, area) in sweeps.iter().zip(&grid) {
                draw_sweep(area, sweep, &axis, &color_of)?;
            }
        }
        root.present()?;
    }
    Ok(svg)
}

/// Draws the title, the facts of the run and the legend.
fn draw_header(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    report: &Report,
    peers: &[String],
    color_of: &dyn Fn(&str) -> RGBColor,
) -> Result<()> {
    let environment = &report.environment;
    let title = match environment.mode {
        Mode::Full => "Weft against its peers: peer time / Weft time".to_string(),
        Mode::Quick => {
            "Weft against its peers: peer time / Weft time (QUICK RUN: rough figures)".to_string()
        }
    };
    let machine = format!(
        "{}, {} logical cores, {}, {}",
        environment.machine, environment.logical_cores, environment.memory, environment.os
    );
    let run = format!(
        "{}, {} (UTC), {} mode",
        environment.rustc,
        environment.date,
        environment.mode.name()
    );
    area.draw(&Text::new(
        title,
        (14, 10),
        (FONT, 27).into_font().color(&BLACK),
    ))?;
    let facts_style = (FONT, 16).into_font().color(&BLACK.mix(0.7));
    area.draw(&Text::new(machine, (14, 44), facts_style.clone()))?;
    area.draw(&Text::new(run, (14, 64), facts_style))?;

    // The legend: the 1.0 line, the shaded band, then one dot per peer,
    // wrapping onto a second line if there are many.
    let legend_style = (FONT, 16).into_font().color(&BLACK);
    let (mut x, mut y) = (14, 100);
    area.draw(&PathElement::new(
        vec![(x, y), (x + 24, y)],
        PARITY.stroke_width(2),
    ))?;
    area.draw(&Text::new(
        "1.0: same speed",
        (x + 30, y - 7),
        legend_style.clone(),
    ))?;
    x += 170;
    area.draw(&Rectangle::new(
        [(x, y - 7), (x + 24, y + 7)],
        BEHIND_SHADE.filled(),
    ))?;
    area.draw(&Text::new(
        "Weft behind",
        (x + 30, y - 7),
        legend_style.clone(),
    ))?;
    x += 150;
    for peer in peers {
        let width = 44 + 9 * peer.chars().count() as i32;
        if x + width > WIDTH as i32 - 10 {
            x = 14;
            y += 22;
        }
        area.draw(&Circle::new((x + 6, y), 5, color_of(peer).filled()))?;
        area.draw(&Text::new(
            peer.clone(),
            (x + 16, y - 7),
            legend_style.clone(),
        ))?;
        x += width;
    }
    Ok(())
}

/// Draws the upper panel: one row per scenario, one dot per peer.
fn draw_ratio_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    rows: &[RatioRow],
    peers: &[String],
    color_of: &dyn Fn(&str) -> RGBColor,
) -> Result<()> {
    let (lo, hi, ticks) = ratio_axis(rows.iter().flat_map(|row| row.ratios.iter().map(|r| r.1)));
    // The first row at the top: row `i` is centred at `n - i - 0.5`, and a
    // little headroom above the top row holds the "slower / faster" notes.
    let n = rows.len() as f64;
    let top = n + 0.8;
    let centers: Vec<f64> = (0..rows.len()).map(|i| n - i as f64 - 0.5).collect();
    let label_at = |y: &f64| {
        let index = (n - y - 0.5).round();
        if index >= 0.0 {
            rows.get(index as usize)
                .map_or(String::new(), |row| row.label.clone())
        } else {
            String::new()
        }
    };
    let longest_label = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(8);

    let mut chart = ChartBuilder::on(area)
        .caption(
            "Per scenario (log scale): right of the 1.0 line, Weft is faster",
            (FONT, 21),
        )
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(20 + 8 * longest_label as u32)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(ticks),
            RowAxis {
                top,
                centers: centers.clone(),
            },
        )?;

    chart.draw_series(iter::once(Rectangle::new(
        [(lo, 0.0), (1.0, top)],
        BEHIND_SHADE.filled(),
    )))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format_tick(*x))
        .y_label_formatter(&label_at)
        .x_desc("peer time / Weft time")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .bold_line_style(BLACK.mix(0.1))
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(1.0, 0.0), (1.0, top)],
        PARITY.stroke_width(2),
    ))?;

    let note = (FONT, 15).into_font().color(&BLACK.mix(0.6));
    chart.draw_series(iter::once(Text::new(
        "◀ Weft slower",
        (lo * 1.03, top - 0.1),
        note.clone(),
    )))?;
    chart.draw_series(iter::once(Text::new(
        "Weft faster ▶",
        (hi / 1.03, top - 0.1),
        note.pos(Pos::new(HPos::Right, VPos::Top)),
    )))?;

    for peer in peers {
        let color = color_of(peer);
        let dots = rows.iter().zip(&centers).flat_map(|(row, &y)| {
            row.ratios
                .iter()
                .filter(|(p, _)| p == peer)
                .map(move |&(_, ratio)| Circle::new((ratio, y), 5, color.filled()))
        });
        chart.draw_series(dots)?;
    }
    Ok(())
}

/// Draws one sweep: the ratio against the thread count, one line per peer.
fn draw_sweep(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    sweep: &Sweep,
    (lo, hi, ticks): &(f64, f64, Vec<f64>),
    color_of: &dyn Fn(&str) -> RGBColor,
) -> Result<()> {
    let mut threads: Vec<f64> = sweep
        .lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|&(t, _)| f64::from(t)))
        .collect();
    threads.sort_by(f64::total_cmp);
    threads.dedup();
    let first = threads.first().copied().unwrap_or(1.0);
    let last = threads.last().copied().unwrap_or(1.0);
    let (left, right) = (first / 1.3, last * 1.3);

    let mut chart = ChartBuilder::on(area)
        .caption(&sweep.title, (FONT, 19))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(
            (left..right).log_scale().with_key_points(threads),
            (*lo..*hi).log_scale().with_key_points(ticks.clone()),
        )?;

    chart.draw_series(iter::once(Rectangle::new(
        [(left, *lo), (right, 1.0)],
        BEHIND_SHADE.filled(),
    )))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format_tick(*y))
        .x_desc("threads (N)")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 15))
        .bold_line_style(BLACK.mix(0.1))
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(left, 1.0), (right, 1.0)],
        PARITY.stroke_width(2),
    ))?;
    for (peer, points) in &sweep.lines {
        let line = points
            .iter()
            .map(|&(threads, ratio)| (f64::from(threads), ratio));
        chart.draw_series(
            LineSeries::new(line, color_of(peer).filled().stroke_width(2)).point_size(4),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::fixtures::{chart_report, environment, measurement};

    /// The contents of every `<text>` element in the SVG, trimmed.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .filter_map(|element| element.split_once('>')?.1.split_once("</text>"))
            .map(|(text, _)| text.trim())
            .collect()
    }

    /// The x coordinates of every vertical black line of width 2 in the SVG.
    fn vertical_parity_lines(svg: &str) -> Vec<i32> {
        svg.split("<polyline")
            .skip(1)
            .filter(|element| element.contains("stroke=\"#000000\" stroke-width=\"2\""))
            .filter_map(|element| {
                let points = element.split("points=\"").nth(1)?.split('"').next()?;
                let xs: Vec<i32> = points
                    .split_whitespace()
                    .filter_map(|point| point.split(',').next()?.parse().ok())
                    .collect();
                (xs.len() == 2 && xs[0] == xs[1]).then_some(xs[0])
            })
            .collect()
    }

    #[test]
    fn draws_the_svg_with_scenarios_sweeps_and_the_parity_line() {
        let report = chart_report();
        let svg = render_svg(&report).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        let texts = texts(&svg);
        for text in [
            "mutex/uncontended",
            "queue/spsc_unbounded",
            "mutex/contended_sweep",
            "1.0: same speed",
            "Weft behind",
            "parking_lot",
            "crossbeam",
            "1×",
            "threads (N)",
        ] {
            assert!(texts.contains(&text), "no text {text} in the SVG");
        }
        assert!(texts.contains(&"Test CPU (x86_64), 2 logical cores, 7.8 GiB, Test OS"));
        assert!(texts.contains(&"rustc 1.95.0, 2026-04-20 (UTC), full mode"));
        // Sweep points are not rows of the upper panel, and a scenario
        // without Weft has no ratio to draw.
        assert!(!svg.contains("mutex/contended_sweep/2"));
        assert!(!svg.contains("seq_unbounded"));
        // The upper panel's 1.0 line is vertical; the sweep's is horizontal.
        assert_eq!(vertical_parity_lines(&svg).len(), 1, "{svg}");
        assert!(!svg.contains("QUICK RUN"));

        // A quick run says so.
        let quick = Report {
            environment: environment(Mode::Quick),
            ..report
        };
        assert!(render_svg(&quick).unwrap().contains("QUICK RUN"));
    }

    /// Every sweep gets its panel, also when they fill more than one row.
    #[test]
    fn draws_every_sweep() {
        let mut measurements = Vec::new();
        let names = ["mutex", "semaphore", "queue", "barrier", "pool"];
        for name in names {
            for threads in [1, 2, 4, 8] {
                let scenario = format!("contended_sweep/{threads}");
                measurements.push(measurement(name, &scenario, "weft", 10.0));
                measurements.push(measurement(name, &scenario, "peer", 12.0));
            }
        }
        let report = Report {
            environment: environment(Mode::Full),
            measurements,
        };
        let svg = render_svg(&report).unwrap();
        let texts = texts(&svg);
        for name in names {
            let title = format!("{name}/contended_sweep");
            assert!(texts.contains(&title.as_str()), "no panel for {title}");
        }
    }

    #[test]
    fn draws_a_chart_without_ratios_or_sweeps() {
        let report = Report {
            environment: environment(Mode::Full),
            measurements: vec![measurement("pool", "alone", "weft", 1.0)],
        };
        let svg = render_svg(&report).unwrap();
        assert!(texts(&svg).contains(&"1.0: same speed"));
        assert_eq!(vertical_parity_lines(&svg).len(), 1);
    }
}
