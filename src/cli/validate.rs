//! `stampede validate`: check scenario files without running them.

use std::path::PathBuf;

use super::{EXIT_USAGE, Failure, Global};

pub fn validate(files: &[PathBuf], g: Global<'_>) -> Result<u8, Failure> {
    let mut problems = Vec::new();
    for f in files {
        match g.load(f) {
            Ok(sc) => {
                super::warn(&sc, false);
                say!(
                    "ok: {} ({}: {} pool(s), {} class(es), {} swarm(s), {} strateg{}, {} chaos event(s))",
                    f.display(),
                    sc.name,
                    sc.pools.len(),
                    sc.classes.len(),
                    sc.swarms.len(),
                    sc.strategies.len(),
                    if sc.strategies.len() == 1 { "y" } else { "ies" },
                    sc.chaos.len()
                )
            }
            Err(e) => problems.push(e.message),
        }
    }
    if problems.is_empty() { Ok(0) } else { Err(Failure { code: EXIT_USAGE, message: problems.join("\n") }) }
}
