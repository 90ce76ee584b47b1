//! CSV import, the pure part: recognise the columns of common exports (LinkedIn
//! Sales Navigator, LinkedIn connections, Apollo, HubSpot, plain sheets),
//! validate each row, and flag duplicates inside the file. The store then
//! skips rows whose person it already holds, so re-importing changes nothing.

use super::money::{parse_currency, parse_money};
use super::pipeline::Pipelines;
use super::profile::{normalize_profile_url, ProfileUrl};
use super::prospect::{
    normalize_email, normalize_field_name, normalize_tag, optional_text, parse_date, validate_probability,
    validate_time_zone, ProspectData,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Name,
    FirstName,
    LastName,
    Email,
    Company,
    Title,
    /// Any column holding a person's profile URL(s); the platform comes from the URL.
    Profile,
    TimeZone,
    /// A column that can only mean rapport's stage: an unknown value is an error.
    Stage,
    /// A plain "Stage" column, which in CRM exports (Apollo's "Cold",
    /// "Approaching", ...) often means something else: a value that is not a
    /// stage of the pipeline is kept as the custom field `stage` instead.
    LooseStage,
    Pipeline,
    Value,
    Currency,
    Probability,
    ExpectedClose,
    Tags,
    Notes,
    /// Columns of rapport's own export that an import does not take back
    /// (the id is assigned anew; the rep comes from `--rep`).
    Ignored,
    /// Anything else is kept as a custom field under its normalised header.
    Custom(String),
}

/// Header spellings, compared after lower-casing and folding punctuation to spaces.
const ALIASES: &[(&str, Column)] = &[
    ("name", Column::Name),
    ("full name", Column::Name),
    ("contact name", Column::Name),
    ("person name", Column::Name),
    ("first name", Column::FirstName),
    ("firstname", Column::FirstName),
    ("given name", Column::FirstName),
    ("last name", Column::LastName),
    ("lastname", Column::LastName),
    ("surname", Column::LastName),
    ("family name", Column::LastName),
    ("email", Column::Email),
    ("email address", Column::Email),
    ("e mail", Column::Email),
    ("e mail address", Column::Email),
    ("work email", Column::Email),
    ("business email", Column::Email),
    ("primary email", Column::Email),
    ("company", Column::Company),
    ("company name", Column::Company),
    ("account name", Column::Company),
    ("organization", Column::Company),
    ("organisation", Column::Company),
    ("organization name", Column::Company),
    ("current company", Column::Company),
    ("title", Column::Title),
    ("job title", Column::Title),
    ("position", Column::Title),
    ("current title", Column::Title),
    ("linkedin", Column::Profile),
    ("linkedin url", Column::Profile),
    ("linkedin profile", Column::Profile),
    ("linkedin profile url", Column::Profile),
    ("person linkedin url", Column::Profile),
    ("profile url", Column::Profile),
    ("url", Column::Profile),
    ("profiles", Column::Profile),
    ("twitter", Column::Profile),
    ("twitter url", Column::Profile),
    ("x url", Column::Profile),
    ("github", Column::Profile),
    ("github url", Column::Profile),
    ("mastodon", Column::Profile),
    ("mastodon url", Column::Profile),
    ("bluesky", Column::Profile),
    ("bluesky url", Column::Profile),
    ("youtube", Column::Profile),
    ("youtube url", Column::Profile),
    ("blog", Column::Profile),
    ("blog url", Column::Profile),
    ("personal website", Column::Profile),
    ("substack", Column::Profile),
    ("medium", Column::Profile),
    ("time zone", Column::TimeZone),
    ("timezone", Column::TimeZone),
    ("stage", Column::LooseStage),
    ("pipeline stage", Column::Stage),
    ("deal stage", Column::Stage),
    ("pipeline", Column::Pipeline),
    ("value", Column::Value),
    ("deal value", Column::Value),
    ("amount", Column::Value),
    ("deal amount", Column::Value),
    ("currency", Column::Currency),
    ("deal currency", Column::Currency),
    ("probability", Column::Probability),
    ("win probability", Column::Probability),
    ("expected close", Column::ExpectedClose),
    ("expected close date", Column::ExpectedClose),
    ("close date", Column::ExpectedClose),
    ("tags", Column::Tags),
    ("tag", Column::Tags),
    ("labels", Column::Tags),
    ("notes", Column::Notes),
    ("note", Column::Notes),
    ("id", Column::Ignored),
    ("rep", Column::Ignored),
];

/// How many leading lines may precede the header (LinkedIn's connections
/// export starts with a "Notes:" preamble).
const MAX_PREAMBLE_LINES: usize = 10;

/// What rows fall back to when a column is absent or blank.
#[derive(Debug, Clone)]
pub struct ImportDefaults<'a> {
    pub pipelines: &'a Pipelines,
    pub pipeline: String,
    /// A stage for every row without one; otherwise the pipeline's first.
    pub stage: Option<String>,
    pub currency: String,
}

impl<'a> ImportDefaults<'a> {
    /// The shipped `default` pipeline from its first stage, in US dollars:
    /// what a file from nowhere is read with (tests, fuzzing, benchmarks).
    pub fn plain(pipelines: &'a Pipelines) -> ImportDefaults<'a> {
        ImportDefaults {
            pipelines,
            pipeline: "default".into(),
            stage: None,
            currency: "USD".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    /// 1-based line of the file where the row starts.
    pub line: u64,
    pub prospect: ProspectData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct ParsedImport {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// Values of a plain "Stage" column that are not stages here, kept as a custom field.
    pub foreign_stages: BTreeSet<String>,
}

/// Parses a whole CSV file's bytes. A file-level problem (no recognisable
/// header) is an `Err`; row-level problems are collected in `errors`.
pub fn parse_csv(bytes: &[u8], defaults: &ImportDefaults) -> Result<ParsedImport, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let mut columns = None;
    for _ in 0..MAX_PREAMBLE_LINES {
        match records.next() {
            Some(Ok(record)) => {
                if let Some(found) = recognise_header(&record) {
                    columns = Some(found);
                    break;
                }
            }
            Some(Err(e)) => return Err(format!("the file is not readable as CSV: {e}")),
            None => break,
        }
    }
    let columns = columns.ok_or_else(|| {
        "no header row found in the first lines; the file needs a header naming at least a Name, \
         First Name, Email or LinkedIn URL column"
            .to_string()
    })?;
    let mut parsed = ParsedImport::default();
    let mut seen = SeenInFile::default();
    for record in records {
        let (line, result) = match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                // More values than the header names (an unquoted comma shifts
                // every column after it): said as such, not as field errors.
                let extra = record
                    .iter()
                    .skip(columns.len())
                    .any(|f| !f.iter().all(u8::is_ascii_whitespace));
                let result = if extra {
                    Err(format!(
                        "{} fields, the header has {}; a value with a comma in it needs double quotes",
                        record.len(),
                        columns.len()
                    ))
                } else {
                    parse_row(&columns, &record, defaults, &mut parsed.foreign_stages)
                };
                (line, result)
            }
            Err(e) => (
                e.position().map_or(0, |p| p.line()),
                Err(format!("not readable as CSV: {e}")),
            ),
        };
        match result.and_then(|p| seen.check(line, &p).map(|_| p)) {
            Ok(Some(prospect)) => parsed.rows.push(ImportRow { line, prospect }),
            Ok(None) => {}
            Err(reason) => parsed.errors.push(RowError { line, reason }),
        }
    }
    Ok(parsed)
}

fn fold_header(text: &str) -> String {
    let text = text.trim_start_matches('\u{feff}');
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn recognise_header(record: &csv::ByteRecord) -> Option<Vec<Column>> {
    let columns: Vec<Column> = record
        .iter()
        .map(|field| {
            let folded = fold_header(&String::from_utf8_lossy(field));
            ALIASES
                .iter()
                .find(|(alias, _)| *alias == folded)
                .map(|(_, column)| column.clone())
                .unwrap_or_else(|| Column::Custom(folded.replace(' ', "_")))
        })
        .collect();
    let identifies_a_person = columns
        .iter()
        .any(|c| matches!(c, Column::Name | Column::FirstName | Column::Email | Column::Profile));
    identifies_a_person.then_some(columns)
}

/// Parses one data row. `Ok(None)` is a blank line.
fn parse_row(
    columns: &[Column],
    record: &csv::ByteRecord,
    defaults: &ImportDefaults,
    foreign_stages: &mut BTreeSet<String>,
) -> Result<Option<ProspectData>, String> {
    let mut cells: Vec<(&Column, &str)> = Vec::new();
    for (index, bytes) in record.iter().enumerate() {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            format!(
                "column {} is not valid UTF-8 (byte {}); save the file as UTF-8",
                index + 1,
                e.valid_up_to()
            )
        })?;
        // A cell an export wrote behind a quote (so spreadsheets show it as text) is read without it.
        if let (Some(column), value) = (columns.get(index), super::spreadsheet::unguard(text.trim())) {
            if !value.is_empty() {
                cells.push((column, value));
            }
        }
    }
    if cells.is_empty() {
        return Ok(None);
    }
    let mut row = RowBuilder::default();
    for (column, value) in cells {
        if let Err(reason) = row.set(column, value) {
            row.problems.push(reason);
        }
    }
    row.settle_loose_stage(defaults, foreign_stages);
    row.finish(defaults).map(Some)
}

#[derive(Default)]
struct RowBuilder {
    name: Option<String>,
    first: Option<String>,
    last: Option<String>,
    prospect: ProspectData,
    stage: Option<String>,
    loose_stage: Option<String>,
    pipeline: Option<String>,
    currency: Option<String>,
    /// The currency the Value column named, if it named one.
    value_currency: Option<String>,
    problems: Vec<String>,
}

impl RowBuilder {
    fn set(&mut self, column: &Column, value: &str) -> Result<(), String> {
        let p = &mut self.prospect;
        match column {
            Column::Name => self.name = optional_text("name", Some(value))?,
            Column::FirstName => self.first = optional_text("first name", Some(value))?,
            Column::LastName => self.last = optional_text("last name", Some(value))?,
            Column::Email => p.email = Some(normalize_email(value)?),
            Column::Company => p.company = optional_text("company", Some(value))?,
            Column::Title => p.title = optional_text("title", Some(value))?,
            Column::Profile => {
                for url in value.split([';', '\n']).filter(|u| !u.trim().is_empty()) {
                    p.profiles.push(normalize_profile_url(url)?);
                }
            }
            Column::TimeZone => p.time_zone = Some(validate_time_zone(value)?),
            Column::Stage => self.stage = Some(value.to_string()),
            Column::LooseStage => self.loose_stage = Some(value.to_string()),
            Column::Pipeline => self.pipeline = Some(value.to_string()),
            Column::Value => {
                let (amount, written) = parse_money(value)?;
                p.value = amount;
                self.value_currency = written;
            }
            Column::Currency => self.currency = Some(parse_currency(value)?),
            Column::Probability => {
                let number: i64 = value
                    .trim_end_matches('%')
                    .trim()
                    .parse()
                    .map_err(|_| format!("probability '{value}' is not a whole number"))?;
                p.probability_override = Some(validate_probability(number)?);
            }
            Column::ExpectedClose => p.expected_close = Some(parse_date(value)?),
            Column::Tags => {
                for tag in value.split([',', ';']).filter(|t| !t.trim().is_empty()) {
                    p.tags.push(normalize_tag(tag)?);
                }
            }
            Column::Notes => p.notes = Some(value.to_string()),
            Column::Ignored => {}
            Column::Custom(name) => {
                if let Ok(name) = normalize_field_name(name) {
                    p.custom_fields.insert(name, value.to_string());
                }
            }
        }
        Ok(())
    }

    /// Takes a plain "Stage" value as the stage when the pipeline has it, else
    /// keeps it as a custom field.
    fn settle_loose_stage(&mut self, defaults: &ImportDefaults, foreign_stages: &mut BTreeSet<String>) {
        let Some(value) = self.loose_stage.take() else { return };
        let slug = self.pipeline.as_deref().unwrap_or(&defaults.pipeline);
        let known = defaults
            .pipelines
            .get(slug)
            .is_ok_and(|p| p.resolve_stage(&value).is_ok());
        if known && self.stage.is_none() {
            self.stage = Some(value);
        } else if !known {
            foreign_stages.insert(value.clone());
            self.prospect.custom_fields.insert("stage".into(), value);
        }
    }

    fn finish(mut self, defaults: &ImportDefaults) -> Result<ProspectData, String> {
        if self.prospect.email.is_none() && self.prospect.profiles.is_empty() && self.problems.is_empty() {
            self.problems
                .push("needs an email address or a profile URL to identify the person".into());
        }
        let pipeline_slug = self.pipeline.clone().unwrap_or_else(|| defaults.pipeline.clone());
        match defaults.pipelines.get(&pipeline_slug) {
            Ok(pipeline) => {
                let wanted = self.stage.as_deref().or(defaults.stage.as_deref());
                let stage = match wanted {
                    Some(wanted) => pipeline.resolve_stage(wanted).map(|s| s.slug.clone()),
                    None => Ok(pipeline.first_stage().slug.clone()),
                };
                match stage {
                    Ok(stage) => self.prospect.stage = stage,
                    Err(reason) => self.problems.push(reason),
                }
                self.prospect.pipeline = pipeline.slug.clone();
            }
            Err(reason) => self.problems.push(reason),
        }
        if !self.problems.is_empty() {
            return Err(self.problems.join("; "));
        }
        self.prospect.name = self.display_name();
        // A value that names its currency (`$100,000`) must agree with the Currency column.
        self.prospect.currency = match (self.value_currency.take(), self.currency.take()) {
            (Some(written), Some(stated)) if written != stated => {
                return Err(format!(
                    "the value is in {written}, but the Currency column says {stated}; make them agree"
                ))
            }
            (Some(written), _) => written,
            (None, Some(stated)) => stated,
            (None, None) => defaults.currency.clone(),
        };
        self.prospect.tags.sort();
        self.prospect.tags.dedup();
        self.prospect.profiles.dedup_by(|a, b| a.url == b.url);
        Ok(self.prospect)
    }

    /// The name column, else first + last, else the address or profile it came with.
    fn display_name(&self) -> String {
        let joined = [self.first.as_deref(), self.last.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        self.name
            .clone()
            .or_else(|| (!joined.is_empty()).then_some(joined))
            .or_else(|| self.prospect.email.clone())
            .or_else(|| self.prospect.profiles.first().map(|p| p.url.clone()))
            .unwrap_or_default()
    }
}

/// Emails and profile URLs already seen earlier in the same file.
#[derive(Default)]
struct SeenInFile {
    emails: HashMap<String, u64>,
    profiles: HashMap<String, u64>,
}

impl SeenInFile {
    fn check(&mut self, line: u64, prospect: &Option<ProspectData>) -> Result<(), String> {
        let Some(p) = prospect else { return Ok(()) };
        if let Some(email) = &p.email {
            if let Some(first) = self.emails.get(email) {
                return Err(format!("duplicate of line {first} (same email {email})"));
            }
        }
        for ProfileUrl { url, .. } in &p.profiles {
            if let Some(first) = self.profiles.get(url) {
                return Err(format!("duplicate of line {first} (same profile {url})"));
            }
        }
        if let Some(email) = &p.email {
            self.emails.insert(email.clone(), line);
        }
        for profile in &p.profiles {
            self.profiles.insert(profile.url.clone(), line);
        }
        Ok(())
    }
}

/// The fields of an export, for `rapport prospect export`, in an order the
/// importer reads back.
pub const EXPORT_HEADER: [&str; 16] = [
    "id",
    "name",
    "email",
    "company",
    "title",
    "profiles",
    "pipeline",
    "stage",
    "value",
    "currency",
    "probability",
    "expected close",
    "time zone",
    "tags",
    "notes",
    "rep",
];

/// Custom fields travel in the export as extra columns.
pub fn custom_field_columns<'a>(fields: impl Iterator<Item = &'a BTreeMap<String, String>>) -> Vec<String> {
    let mut names: Vec<String> = fields.flat_map(|f| f.keys().cloned()).collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Amount;

    fn try_parse(text: &[u8]) -> Result<ParsedImport, String> {
        let pipelines = Pipelines::shipped();
        let defaults = ImportDefaults::plain(&pipelines);
        parse_csv(text, &defaults)
    }

    fn parse(text: &[u8]) -> ParsedImport {
        try_parse(text).unwrap()
    }

    #[test]
    fn sales_navigator_columns() {
        let got = parse(b"First Name,Last Name,Email Address,Company Name,Title,LinkedIn URL\nJane,Doe,JANE@acme.io,Acme,CTO,https://www.linkedin.com/in/janedoe/\n");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        let p = &got.rows[0].prospect;
        assert_eq!(
            (p.name.as_str(), p.email.as_deref(), p.company.as_deref()),
            ("Jane Doe", Some("jane@acme.io"), Some("Acme"))
        );
        assert_eq!(p.profiles[0].url, "https://linkedin.com/in/janedoe");
        assert_eq!((p.pipeline.as_str(), p.stage.as_str()), ("default", "prospecting"));
    }

    #[test]
    fn linkedin_connections_preamble_is_skipped() {
        let got = parse(b"Notes:\n\"When exporting your connection data, you may notice...\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\nAli,Khan,https://www.linkedin.com/in/alikhan,,Initech,VP Sales,01 Jan 2026\n");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.rows[0].line, 5);
        assert_eq!(
            got.rows[0]
                .prospect
                .custom_fields
                .get("connected_on")
                .map(String::as_str),
            Some("01 Jan 2026")
        );
    }

    #[test]
    fn bad_rows_are_reported_by_line() {
        let got = parse(b"Name,Email,LinkedIn URL\nNo Id,,\nBad Url,,ht!tp://\nBad Mail,jane@,\nA,a@x.io,\nA again,A@X.io,\nBroken,\xff\xfe@x.io,\n");
        let lines: Vec<(u64, &str)> = got.errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[0].1.contains("needs an email address or a profile URL"));
        assert!(lines[1].1.contains("'ht!tp://'"), "{}", lines[1].1);
        assert!(lines[2].1.contains("not an email address"));
        assert_eq!(lines[3].0, 6);
        assert!(lines[3].1.contains("duplicate of line 5"));
        assert!(lines[4].1.contains("UTF-8"));
        assert_eq!(got.rows.len(), 1);
    }

    #[test]
    fn stage_and_value_columns_are_checked() {
        let got = parse(
            b"name,email,deal stage,deal value,probability\nA,a@x.io,Proposal,\"100,000\",70%\nB,b@x.io,closing,10,\n",
        );
        assert_eq!(got.rows[0].prospect.stage, "proposal");
        assert_eq!(got.rows[0].prospect.value, Amount::from_units(100_000));
        assert_eq!(got.rows[0].prospect.probability_override, Some(70));
        assert!(got.errors[0].reason.contains("valid stages: prospecting"));
    }

    #[test]
    fn a_crm_stage_column_is_kept_when_it_is_not_ours() {
        let got = parse(b"First Name,Email,Stage\nA,a@x.io,Cold\nB,b@x.io,meeting\n");
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        assert_eq!(got.rows[0].prospect.stage, "prospecting");
        assert_eq!(
            got.rows[0].prospect.custom_fields.get("stage").map(String::as_str),
            Some("Cold")
        );
        assert_eq!(got.rows[1].prospect.stage, "meeting");
        assert_eq!(
            got.foreign_stages.into_iter().collect::<Vec<_>>(),
            vec!["Cold".to_string()]
        );
    }

    #[test]
    fn a_file_without_a_header_is_refused() {
        assert!(try_parse(b"foo,bar\n1,2\n").unwrap_err().contains("no header row"));
    }

    #[test]
    fn a_row_with_more_fields_than_the_header_is_said_to_be_so() {
        let pipelines = Pipelines::shipped();
        let defaults = ImportDefaults::plain(&pipelines);
        let csv = "Name,Email,Company\nJane Doe,jane@acme.io,Acme, Inc.\nRaj,raj@globex.com,Globex,\n";
        let parsed = parse_csv(csv.as_bytes(), &defaults).unwrap();
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        assert_eq!(parsed.errors[0].line, 2);
        assert!(
            parsed.errors[0].reason.starts_with("4 fields, the header has 3"),
            "{:?}",
            parsed.errors
        );
        assert_eq!(parsed.rows.len(), 1, "an empty trailing field is no shift");
    }
}
