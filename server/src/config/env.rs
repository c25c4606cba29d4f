//! `MTX_<KEY>` environment overrides, applied over the file as MediaMTX documents them:
//!
//! - a global key: `MTX_` and the key in upper case (`MTX_RTSPADDRESS=:8555`);
//! - booleans `yes` / `no` / `true` / `false` (any case), numbers, durations as in the file;
//! - lists of values as comma-separated values (`MTX_RTSPTRANSPORTS=tcp,udp`; empty: empty list);
//! - lists of entries by position (`MTX_AUTHINTERNALUSERS_0_USER=admin`);
//! - `pathDefaults` keys: `MTX_PATHDEFAULTS_<KEY>`;
//! - path keys: `MTX_PATHS_<NAME>_<KEY>` — the name is the part up to the next underscore, must be
//!   written in upper case and means the lower-case path (`MTX_PATHS_TEST_SOURCE` sets
//!   `paths.test.source`, creating the path if the file has none). A name with an underscore
//!   (`all_others`) cannot be reached this way, in MediaMTX either.
//!
//! Deprecated keys can be set too (they are mapped afterwards like the file's). Variables that name
//! no key are ignored, as MediaMTX ignores them. The value types come from MediaMTX's default file:
//! a value of the wrong type is an error naming the variable; values checked later (durations,
//! addresses) name the variable too, through [`Source`].

use super::deprecated;
use super::source::Source;
use super::yaml::Yaml;
use super::ConfigError;
use std::collections::{BTreeMap, BTreeSet};

/// The prefix of every override.
const PREFIX: &str = "MTX";

/// Entry fields of the lists whose default is empty, so that `MTX_<LIST>_0_<FIELD>` can be
/// typed (MediaMTX's structures for them).
const EMPTY_LIST_FIELDS: &[(&str, &[(&str, deprecated::Kind)])] = {
    use deprecated::Kind::{Bool, Int, Str};
    &[
        ("authHTTPExclude", &[("action", Str), ("path", Str)]),
        ("authJWTExclude", &[("action", Str), ("path", Str)]),
        (
            "webrtcICEServers2",
            &[
                ("url", Str),
                ("username", Str),
                ("password", Str),
                ("clientOnly", Bool),
            ],
        ),
        (
            "alwaysAvailableTracks",
            &[
                ("codec", Str),
                ("sampleRate", Int),
                ("channelCount", Int),
                ("muLaw", Bool),
            ],
        ),
        (
            "forward",
            &[
                ("dest", Str),
                ("destFingerprint", Str),
                ("whipBearerToken", Str),
            ],
        ),
    ]
};

/// Applies the `MTX_` variables of `env` to the file's keys (`user`), the value types taken from
/// MediaMTX's defaults (`defaults`); records each key's variable in `src`.
pub(crate) fn apply(
    user: &mut BTreeMap<String, Yaml>,
    defaults: &BTreeMap<String, Yaml>,
    env: &[(String, String)],
    src: &mut Source,
) -> Result<(), ConfigError> {
    let vars: BTreeMap<&str, &str> = env
        .iter()
        .filter(|(k, _)| k.starts_with("MTX_"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if vars.is_empty() {
        return Ok(());
    }
    let mut w = Walker { vars: &vars, src };

    let mut global: BTreeMap<String, Yaml> = defaults
        .iter()
        .filter(|(k, _)| *k != "pathDefaults" && *k != "paths")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, kind) in deprecated::global_keys() {
        global.insert(k.to_owned(), kind.sample());
    }
    let mut path_schema = defaults
        .get("pathDefaults")
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    for (k, kind) in deprecated::path_keys() {
        path_schema.insert(k.to_owned(), kind.sample());
    }

    let mut path = Vec::new();
    w.fields(PREFIX, &global, user, Some(defaults), &mut path)?;

    path.push("pathDefaults".to_owned());
    let mut pd = user
        .get("pathDefaults")
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    let pd_defaults = defaults
        .get("pathDefaults")
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    let var = format!("{PREFIX}_PATHDEFAULTS");
    if w.fields(&var, &path_schema, &mut pd, Some(&pd_defaults), &mut path)? {
        user.insert("pathDefaults".into(), Yaml::Map(pd));
    }
    let schema = Yaml::Map(path_schema);

    let path_prefix = format!("{PREFIX}_PATHS_");
    let names: BTreeSet<&str> = vars
        .keys()
        .filter_map(|k| k.strip_prefix(path_prefix.as_str()))
        .filter_map(|rest| rest.split('_').next())
        .filter(|seg| !seg.is_empty() && *seg == seg.to_uppercase())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let mut paths = user
        .get("paths")
        .or_else(|| defaults.get("paths"))
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    for seg in names {
        let name = seg.to_lowercase();
        let var = format!("{path_prefix}{seg}");
        let existed = paths.contains_key(&name);
        let mut path = vec!["paths".to_owned(), name.clone()];
        if let Some(v) = w.node(&var, &schema, paths.get(&name), &mut path)? {
            if !existed {
                let first = vars
                    .keys()
                    .find(|k| k.starts_with(&format!("{var}_")))
                    .map_or(var.clone(), |k| (*k).to_owned());
                w.src
                    .set_origin(&["paths", &name], format!("environment variable {first}"));
            }
            paths.insert(name, v);
        }
    }
    user.insert("paths".into(), Yaml::Map(paths));
    Ok(())
}

/// Walks a value's schema, reading the variables named after each key.
struct Walker<'a> {
    vars: &'a BTreeMap<&'a str, &'a str>,
    src: &'a mut Source,
}

impl Walker<'_> {
    /// Whether a variable is `var` or lies under it (`var_…`).
    fn any_under(&self, var: &str) -> bool {
        let under = format!("{var}_");
        self.vars
            .range(var..)
            .take_while(|(k, _)| k.starts_with(var))
            .any(|(k, _)| *k == var || k.starts_with(&under))
    }

    /// The value at `path` after the variables under `var` are applied to `current`, shaped like
    /// `schema`; `None` if no variable touches it.
    fn node(
        &mut self,
        var: &str,
        schema: &Yaml,
        current: Option<&Yaml>,
        path: &mut Vec<String>,
    ) -> Result<Option<Yaml>, ConfigError> {
        if !self.any_under(var) {
            return Ok(None);
        }
        match schema {
            Yaml::Map(fields) => {
                let mut map = current.and_then(Yaml::as_map).unwrap_or_default();
                let changed = self.fields(var, fields, &mut map, None, path)?;
                Ok(changed.then_some(Yaml::Map(map)))
            }
            Yaml::Seq(items) => match self.element_schema(items, path) {
                Some(elem) => self.entry_list(var, &elem, current, path),
                None => self.scalar(var, schema, path),
            },
            _ => self.scalar(var, schema, path),
        }
    }

    /// Applies the variables under `var` to the keys of `target` named in `schema` (a key
    /// `target` lacks starts from `fallback`'s value); whether any changed.
    fn fields(
        &mut self,
        var: &str,
        schema: &BTreeMap<String, Yaml>,
        target: &mut BTreeMap<String, Yaml>,
        fallback: Option<&BTreeMap<String, Yaml>>,
        path: &mut Vec<String>,
    ) -> Result<bool, ConfigError> {
        let mut changed = false;
        for (k, s) in schema {
            let v = format!("{var}_{}", k.to_uppercase());
            let current = target.get(k).or_else(|| fallback.and_then(|f| f.get(k)));
            path.push(k.clone());
            let r = self.node(&v, s, current, path);
            path.pop();
            if let Some(nv) = r? {
                target.insert(k.clone(), nv);
                changed = true;
            }
        }
        Ok(changed)
    }

    /// The entry schema of a list of entries (union of the default entries' fields), if it is one.
    fn element_schema(&self, items: &[Yaml], path: &[String]) -> Option<Yaml> {
        let mut fields = BTreeMap::new();
        for it in items {
            if let Yaml::Map(m) = it {
                for (k, v) in m {
                    let v = match v {
                        Yaml::Null => Yaml::Str(String::new()),
                        other => other.clone(),
                    };
                    fields.entry(k.clone()).or_insert(v);
                }
            }
        }
        if fields.is_empty() && items.is_empty() {
            let key = path.last()?;
            let (_, list) = EMPTY_LIST_FIELDS.iter().find(|(k, _)| k == key)?;
            for (f, kind) in *list {
                fields.insert((*f).to_owned(), kind.sample());
            }
        }
        (!fields.is_empty()).then_some(Yaml::Map(fields))
    }

    /// A list of entries: `var_0_…`, `var_1_…` (an entry past the end is appended); `var` empty
    /// empties the list.
    fn entry_list(
        &mut self,
        var: &str,
        elem: &Yaml,
        current: Option<&Yaml>,
        path: &mut Vec<String>,
    ) -> Result<Option<Yaml>, ConfigError> {
        if let Some(v) = self.vars.get(var) {
            if v.is_empty() {
                self.record(path, var);
                return Ok(Some(Yaml::Seq(Vec::new())));
            }
        }
        let mut items = match current {
            Some(Yaml::Seq(s)) => s.clone(),
            _ => Vec::new(),
        };
        let mut changed = false;
        for i in 0.. {
            let item_var = format!("{var}_{i}");
            if !self.any_under(&item_var) {
                if i >= items.len() {
                    break;
                }
                continue;
            }
            path.push(i.to_string());
            let r = self.node(&item_var, elem, items.get(i), path);
            path.pop();
            if let Some(nv) = r? {
                match items.get_mut(i) {
                    Some(slot) => *slot = nv,
                    None => items.push(nv),
                }
                changed = true;
            }
        }
        Ok(changed.then_some(Yaml::Seq(items)))
    }

    /// A value (or a list of values) read from `var`, typed like `schema`.
    fn scalar(
        &mut self,
        var: &str,
        schema: &Yaml,
        path: &[String],
    ) -> Result<Option<Yaml>, ConfigError> {
        let Some(raw) = self.vars.get(var).copied() else {
            return Ok(None);
        };
        self.record(path, var);
        let v = match schema {
            Yaml::Seq(_) if raw.is_empty() => Yaml::Seq(Vec::new()),
            Yaml::Seq(items) => {
                let item = items.first().cloned().unwrap_or(Yaml::Str(String::new()));
                let mut out = Vec::new();
                for part in raw.split(',') {
                    out.push(self.typed(part, &item, path)?);
                }
                Yaml::Seq(out)
            }
            other => self.typed(raw, other, path)?,
        };
        Ok(Some(v))
    }

    /// `raw` as a value of the sample's type.
    fn typed(&self, raw: &str, sample: &Yaml, path: &[String]) -> Result<Yaml, ConfigError> {
        let err = |what: &str| {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            self.src.err(&p, &format!("'{raw}' {what}"))
        };
        match sample {
            Yaml::Bool(_) => match raw.to_ascii_lowercase().as_str() {
                "yes" | "true" => Ok(Yaml::Bool(true)),
                "no" | "false" => Ok(Yaml::Bool(false)),
                _ => Err(err("is not a boolean (yes, no, true, false)")),
            },
            Yaml::Int(_) | Yaml::Float(_) => {
                if let Ok(i) = raw.trim().parse::<i64>() {
                    Ok(Yaml::Int(i))
                } else if let Ok(f) = raw.trim().parse::<f64>() {
                    Ok(Yaml::Float(f))
                } else {
                    Err(err("is not a number"))
                }
            }
            _ => Ok(Yaml::Str(raw.to_owned())),
        }
    }

    /// Records that the key at `path` comes from `var`.
    fn record(&mut self, path: &[String], var: &str) {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        self.src
            .set_origin(&p, format!("environment variable {var}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;

    fn defaults() -> BTreeMap<String, Yaml> {
        serde_saphyr::from_str(DEFAULT_CONFIG).unwrap()
    }

    /// The file `text` after the variables `vars`, and where each key came from.
    fn run(text: &str, vars: &[(&str, &str)]) -> (BTreeMap<String, Yaml>, Source) {
        let mut user = Yaml::as_map(&serde_saphyr::from_str(text).unwrap()).unwrap();
        let env: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut src = Source::new(text);
        apply(&mut user, &defaults(), &env, &mut src).unwrap();
        (user, src)
    }

    fn yaml(text: &str) -> Yaml {
        serde_saphyr::from_str(text).unwrap()
    }

    #[test]
    fn values_are_typed_like_mediamtx_s_defaults_and_located_by_variable() {
        let vars = [
            ("MTX_RTSPADDRESS", ":8555"),
            ("MTX_RTMP", "No"),
            ("MTX_WRITEQUEUESIZE", "1024"),
            ("MTX_RTSPTRANSPORTS", "tcp,udp"),
            ("MTX_HLSALLOWORIGINS", ""),
            ("MTX_PATHDEFAULTS_RPICAMERABRIGHTNESS", "0.5"),
        ];
        let (user, src) = run("logLevel: info\n", &vars);
        assert_eq!(user["rtspAddress"], Yaml::Str(":8555".into()));
        assert_eq!(user["rtmp"], Yaml::Bool(false));
        assert_eq!(user["writeQueueSize"], Yaml::Int(1024));
        assert_eq!(user["rtspTransports"], yaml("[tcp, udp]"));
        assert_eq!(user["hlsAllowOrigins"], Yaml::Seq(Vec::new()));
        assert_eq!(user["logLevel"], Yaml::Str("info".into()), "file keys stay");
        let pd = user["pathDefaults"].as_map().unwrap();
        assert_eq!(pd["rpiCameraBrightness"], Yaml::Float(0.5));
        assert_eq!(pd.len(), 1, "only the set key: {pd:?}");
        assert_eq!(
            src.locate(&["rtspAddress"]).as_deref(),
            Some("environment variable MTX_RTSPADDRESS")
        );
        assert_eq!(src.locate(&["logLevel"]).as_deref(), Some("line 1"));
    }

    #[test]
    fn list_entries_are_patched_by_position() {
        let vars = [
            ("MTX_AUTHINTERNALUSERS_0_USER", "admin"),
            ("MTX_AUTHINTERNALUSERS_0_PASS", "secret"),
            ("MTX_AUTHINTERNALUSERS_2_USER", "viewer"),
            ("MTX_AUTHINTERNALUSERS_2_PERMISSIONS_0_ACTION", "read"),
        ];
        let (user, src) = run("logLevel: info\n", &vars);
        let Yaml::Seq(users) = &user["authInternalUsers"] else {
            panic!("{:?}", user["authInternalUsers"]);
        };
        let default_users = match &defaults()["authInternalUsers"] {
            Yaml::Seq(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(users.len(), 3);
        let first = users[0].as_map().unwrap();
        assert_eq!(first["user"], Yaml::Str("admin".into()));
        assert_eq!(first["pass"], Yaml::Str("secret".into()));
        assert_eq!(
            first["permissions"],
            default_users[0].as_map().unwrap()["permissions"],
            "fields no variable names stay"
        );
        assert_eq!(users[1], default_users[1]);
        assert_eq!(
            users[2],
            yaml("{user: viewer, permissions: [{action: read}]}")
        );
        assert_eq!(
            src.locate(&["authInternalUsers", "2", "user"]).as_deref(),
            Some("environment variable MTX_AUTHINTERNALUSERS_2_USER")
        );
    }

    #[test]
    fn entries_of_lists_empty_by_default_are_typed_too() {
        let vars = [
            ("MTX_WEBRTCICESERVERS2_0_URL", "stun:stun.example:19302"),
            ("MTX_WEBRTCICESERVERS2_0_CLIENTONLY", "yes"),
        ];
        let (user, _) = run("logLevel: info\n", &vars);
        assert_eq!(
            user["webrtcICEServers2"],
            yaml("[{url: 'stun:stun.example:19302', clientOnly: true}]")
        );
    }

    #[test]
    fn paths_are_created_or_patched_by_upper_case_name() {
        let text = "paths:\n  cam:\n    maxReaders: 2\n";
        let vars = [
            ("MTX_PATHS_CAM_SOURCEPROTOCOL", "tcp"),
            ("MTX_PATHS_NEW1_SOURCE", "rtsp://x/y"),
            ("MTX_PATHS_lower_SOURCE", "rtsp://ignored"),
        ];
        let (user, src) = run(text, &vars);
        let paths = user["paths"].as_map().unwrap();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert_eq!(paths["cam"], yaml("{maxReaders: 2, sourceProtocol: tcp}"));
        assert_eq!(paths["new1"], yaml("{source: 'rtsp://x/y'}"));
        assert_eq!(
            src.locate(&["paths", "new1"]).as_deref(),
            Some("environment variable MTX_PATHS_NEW1_SOURCE")
        );
        assert_eq!(src.locate(&["paths", "cam"]).as_deref(), Some("line 2"));
    }

    #[test]
    fn a_file_without_paths_keeps_the_default_entries() {
        let (user, _) = run("logLevel: info\n", &[("MTX_PATHS_CAM_MAXREADERS", "1")]);
        let paths = user["paths"].as_map().unwrap();
        assert!(
            paths.contains_key("all_others") && paths.contains_key("cam"),
            "{paths:?}"
        );
    }
}
