//! Prospects as a CSV file: the columns `import` reads back (so an export
//! re-imports as it was), then one column per custom field; every cell
//! guarded so a spreadsheet shows it as text and never runs it as a formula.

use super::import::{custom_field_columns, EXPORT_HEADER};
use super::prospect::Prospect;

/// The CSV text of these prospects.
pub fn to_csv(prospects: &[Prospect]) -> Result<Vec<u8>, String> {
    let custom = custom_field_columns(prospects.iter().map(|p| &p.data.custom_fields));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| format!("cannot write the CSV: {e}");
    writer
        .write_record(
            EXPORT_HEADER
                .iter()
                .map(|h| h.to_string())
                .chain(custom.iter().cloned()),
        )
        .map_err(fail)?;
    for p in prospects {
        let profiles = p
            .data
            .profiles
            .iter()
            .map(|x| x.given.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let mut record = vec![
            p.id.to_string(),
            p.data.name.clone(),
            p.data.email.clone().unwrap_or_default(),
            p.data.company.clone().unwrap_or_default(),
            p.data.title.clone().unwrap_or_default(),
            profiles,
            p.data.pipeline.clone(),
            p.data.stage.clone(),
            format!("{}", p.data.value.as_units()),
            p.data.currency.clone(),
            p.data.probability_override.map(|x| x.to_string()).unwrap_or_default(),
            p.data.expected_close.map(|d| d.to_string()).unwrap_or_default(),
            p.data.time_zone.clone().unwrap_or_default(),
            p.data.tags.join(";"),
            p.data.notes.clone().unwrap_or_default(),
            p.rep_email.clone(),
        ];
        record.extend(
            custom
                .iter()
                .map(|c| p.data.custom_fields.get(c).cloned().unwrap_or_default()),
        );
        writer
            .write_record(record.iter().map(|cell| super::spreadsheet::guard(cell).into_owned()))
            .map_err(fail)?;
    }
    writer.into_inner().map_err(|e| format!("cannot write the CSV: {e}"))
}
