//! `cargo xtask ci`: a placeholder until the real task lands.

/// Runs the `ci` task with the arguments that follow `ci` on the command line.
///
/// This placeholder accepts any arguments and does nothing yet.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Ok(())
}
