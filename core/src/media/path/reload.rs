//! Applying a new configuration to a running registry (hot reload).

use super::{PathConf, PathManager};

impl<S: Clone> PathManager<S> {
    /// Replaces the path entries with `confs`. Returns the active paths (with a publisher or
    /// readers) whose entry changed — another entry now matches them, or theirs was edited, or
    /// none matches any more: the adapter closes them (MediaMTX closes a path whose
    /// configuration changed); the others keep their publisher and readers untouched.
    pub fn reload(&mut self, confs: Vec<PathConf>) -> Vec<String> {
        let next: PathManager<S> = PathManager::new(confs);
        let mut changed = Vec::new();
        for name in self.paths.keys() {
            let before = self
                .find_conf(name)
                .ok()
                .map(|(m, c)| (m.groups, c.clone()));
            let after = next
                .find_conf(name)
                .ok()
                .map(|(m, c)| (m.groups, c.clone()));
            if before != after {
                changed.push(name.clone());
            }
        }
        changed.sort();
        self.confs = next.confs;
        self.patterns = next.patterns;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(name: &str, max_readers: u32) -> PathConf {
        PathConf {
            name: name.into(),
            max_readers,
            ..PathConf::all_others()
        }
    }

    #[test]
    fn only_active_paths_whose_entry_changed_are_reported() {
        let mut pm: PathManager<u32> =
            PathManager::new(vec![conf("a", 0), conf("b", 0), conf("all_others", 0)]);
        pm.publish("a", 1, 10).unwrap();
        pm.publish("b", 2, 20).unwrap();
        pm.publish("c", 3, 30).unwrap();
        // 'a' edited, 'b' untouched, 'c' now falls under a new regex entry.
        let changed = pm.reload(vec![
            conf("a", 5),
            conf("b", 0),
            conf("~^c$", 0),
            conf("all_others", 0),
        ]);
        assert_eq!(changed, vec!["a".to_string(), "c".to_string()]);
        assert_eq!(
            pm.describe("b"),
            Ok(20),
            "untouched paths keep their publisher"
        );
        assert_eq!(pm.find_conf("a").unwrap().1.max_readers, 5);
    }
}
