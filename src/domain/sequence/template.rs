//! Step templates (MiniJinja): what they may use, and rendering that refuses
//! to leave a blank. A field that is missing or empty for a prospect makes
//! the render fail with its name, so a message is never sent as "Hi ,".

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The fields templates may use; `custom.*` takes any custom field's name.
pub const FIELDS: &[(&str, &[&str])] = &[
    (
        "prospect",
        &[
            "name",
            "first_name",
            "last_name",
            "email",
            "company",
            "title",
            "stage",
            "pipeline",
            "time_zone",
        ],
    ),
    ("rep", &["name", "first_name", "email"]),
    ("latest_post", &["title", "url", "date"]),
];
const CUSTOM: &str = "custom";

/// Checks a template's syntax and that it only names known fields.
pub fn check(source: &str) -> Result<(), String> {
    let env = environment();
    let template = env.template_from_str(source).map_err(describe)?;
    for name in template.undeclared_variables(true) {
        check_field(&name)?;
    }
    Ok(())
}

/// The fields a template uses (`prospect.company`, `custom.industry`, ...).
pub fn fields_used(source: &str) -> BTreeSet<String> {
    let env = environment();
    env.template_from_str(source)
        .map(|t| t.undeclared_variables(true).into_iter().collect())
        .unwrap_or_default()
}

fn check_field(name: &str) -> Result<(), String> {
    let (group, field) = name.split_once('.').unwrap_or((name, ""));
    if group == CUSTOM {
        return Ok(());
    }
    let Some((_, fields)) = FIELDS.iter().find(|(g, _)| *g == group) else {
        return Err(format!("'{name}' is not a template field; use {}", known_fields()));
    };
    // A bare group is fine: `{% if latest_post %}` tests whether there is one.
    if !field.is_empty() && !fields.contains(&field) {
        return Err(format!(
            "'{name}' is not a template field; {group} has {}",
            fields.join(", ")
        ));
    }
    Ok(())
}

fn known_fields() -> String {
    let mut names: Vec<String> = FIELDS
        .iter()
        .flat_map(|(group, fields)| fields.iter().map(move |f| format!("{group}.{f}")))
        .collect();
    names.push("custom.NAME".into());
    names.join(", ")
}

/// What one prospect's templates are rendered with. Empty values are left
/// out, so using them fails instead of rendering a blank.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateContext {
    pub prospect: BTreeMap<String, String>,
    pub custom: BTreeMap<String, String>,
    pub rep: BTreeMap<String, String>,
    pub latest_post: Option<BTreeMap<String, String>>,
}

impl TemplateContext {
    fn to_value(&self) -> Value {
        let group = |fields: &BTreeMap<String, String>| {
            Value::Object(
                fields
                    .iter()
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect::<Map<_, _>>(),
            )
        };
        let mut context = Map::new();
        context.insert("prospect".into(), group(&self.prospect));
        context.insert(CUSTOM.into(), group(&self.custom));
        context.insert("rep".into(), group(&self.rep));
        if let Some(post) = &self.latest_post {
            context.insert("latest_post".into(), group(post));
        }
        Value::Object(context)
    }

    /// The fields of `source` this context has no value for.
    pub fn missing(&self, source: &str) -> Vec<String> {
        let value = self.to_value();
        fields_used(source)
            .into_iter()
            .filter(|name| {
                let (group, field) = name.split_once('.').unwrap_or((name, ""));
                value
                    .get(group)
                    .and_then(|g| if field.is_empty() { Some(g) } else { g.get(field) })
                    .is_none()
            })
            .collect()
    }
}

/// Renders a template; `html` escapes the values. Printing a field without
/// a value fails; testing one (`{% if latest_post %}`) is allowed.
pub fn render(source: &str, context: &TemplateContext, html: bool) -> Result<String, String> {
    let env = environment();
    let name = if html { "body.html" } else { "body.txt" };
    let template = env.template_from_named_str(name, source).map_err(describe)?;
    template.render(context.to_value()).map_err(|e| {
        let missing = context.missing(source);
        match missing.is_empty() {
            true => describe(e),
            false => format!("{}; no value for {}", describe(e), missing.join(", ")),
        }
    })
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_keep_trailing_newline(true);
    env
}

fn describe(error: minijinja::Error) -> String {
    match error.line() {
        Some(line) => format!(
            "{} (template line {line})",
            error.detail().unwrap_or(&error.kind().to_string())
        ),
        None => error.detail().map_or_else(|| error.kind().to_string(), str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> TemplateContext {
        TemplateContext {
            prospect: [("first_name", "Jane"), ("company", "Acme"), ("title", "")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            custom: [("industry".to_string(), "logistics".to_string())].into(),
            rep: [("first_name".to_string(), "Ann".to_string())].into(),
            latest_post: None,
        }
    }

    #[test]
    fn templates_may_only_name_known_fields() {
        assert!(check("Hi {{ prospect.first_name }}, about {{ custom.industry }} at {{ prospect.company }}").is_ok());
        assert!(check("{{ prospect.compnay }}")
            .unwrap_err()
            .contains("prospect has name, first_name"));
        assert!(check("{{ prospekt.name }}").unwrap_err().contains("custom.NAME"));
        assert!(check("{{ prospect.name ").is_err(), "syntax errors are caught");
    }

    #[test]
    fn a_missing_or_empty_field_is_refused_never_blank() {
        let context = jane();
        assert_eq!(
            render("Hi {{ prospect.first_name }}!", &context, false).unwrap(),
            "Hi Jane!"
        );
        let err = render(
            "Hi {{ prospect.first_name }}, {{ prospect.title }} at {{ prospect.company }}",
            &context,
            false,
        )
        .unwrap_err();
        assert!(err.contains("prospect.title"), "{err}");
        let err = render("Loved {{ latest_post.title }}", &context, false).unwrap_err();
        assert!(err.contains("latest_post.title"), "{err}");
        let guarded = "{% if latest_post %}Loved {{ latest_post.title }}. {% endif %}Hi";
        assert_eq!(render(guarded, &context, false).unwrap(), "Hi");
    }

    #[test]
    fn html_bodies_escape_values() {
        let mut context = jane();
        context.prospect.insert("company".into(), "<Acme & Sons>".into());
        let html = render("<p>{{ prospect.company }}</p>", &context, true).unwrap();
        assert_eq!(html, "<p>&lt;Acme &amp; Sons&gt;</p>");
        assert_eq!(
            render("{{ prospect.company }}", &context, false).unwrap(),
            "<Acme & Sons>"
        );
    }
}
