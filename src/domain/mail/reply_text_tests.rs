//! Fresh text of replies from many clients and languages: top-posted,
//! bottom-posted, interleaved, attributions wrapped over two lines, HTML.

use super::*;

fn fresh(text: &str) -> String {
    fresh_text(text, None, false).unwrap_or_default()
}

fn fresh_html(html: &str) -> String {
    fresh_text("", Some(html), true).unwrap_or_default()
}

#[test]
fn cuts_quote_and_signature() {
    let text = "Sounds good, see you then.\n\nAnn\n-- \nAnn Example\n\nOn Tue, 3 Dec 2026, Bob wrote:\n> hi";
    assert_eq!(fresh(text), "Sounds good, see you then.\n\nAnn");
}

#[test]
fn attributions_in_many_languages_open_the_quote() {
    let attributions = [
        "On Tue, 1 Dec 2026 at 10:00, Ann Rep <ann@us.example> wrote:",
        "Am Di., 1. Dez. 2026 um 10:00 Uhr schrieb Ann Rep <ann@us.example>:",
        "Le mar. 1 déc. 2026 à 10:00, Ann Rep <ann@us.example> a écrit :",
        "El mar, 1 dic 2026 a las 10:00, Ann Rep (<ann@us.example>) escribió:",
        "Op di 1 dec. 2026 om 10:00 schreef Ann Rep <ann@us.example>:",
        "Den tir. 1. des. 2026 kl. 10:00 skrev Ann Rep <ann@us.example>:",
        "W dniu 1.12.2026 o 10:00, Ann Rep <ann@us.example> pisze:",
        "1 декабря 2026 г., 10:00 пользователь Ann Rep <ann@us.example> написал:",
        "вт, 1 дек. 2026 г. в 10:00, Ann Rep <ann@us.example>:",
        "01.12.2026, 10:00, \"Ann Rep\" <ann@us.example>:",
        "Il giorno mar 1 dic 2026 alle ore 10:00 Ann Rep <ann@us.example> ha scritto:",
        "Em ter., 1 de dez. de 2026 às 10:00, Ann Rep <ann@us.example> escreveu:",
        "Dne 1. 12. 2026 v 10:00 Ann Rep <ann@us.example> napsal(a):",
        "Ann Rep <ann@us.example> ezt írta (időpont: 2026. dec. 1., K, 10:00):",
        "Ann Rep <ann@us.example> şunu yazdı (1 Ara 2026 Sal 10:00):",
        "2026年12月1日(火) 10:00 Ann Rep <ann@us.example>:",
        "On Mon, Ann wrote:",
        "Am Montag schrieb Ann:",
        "Ann Rep <ann@us.example> 于2026年12月1日周二 10:00写道：",
    ];
    for attribution in attributions {
        let text = format!("Yes, Tuesday works.\n\n{attribution}\n> Could we talk next week?\n");
        assert_eq!(fresh(&text), "Yes, Tuesday works.", "{attribution}");
    }
}

#[test]
fn an_attribution_broken_over_two_lines_opens_the_quote() {
    let text = "Tuesday is fine.\n\nAm Di., 1. Dez. 2026 um 10:00 Uhr schrieb\nAnn Rep <ann@us.example>:\n> Hallo\n";
    assert_eq!(fresh(text), "Tuesday is fine.");
    let text = "Fine.\n\nOn Tue, 1 Dec 2026 at 10:00, Ann Rep <ann@us.example>\nwrote:\n> Hello\n";
    assert_eq!(fresh(text), "Fine.");
}

#[test]
fn bottom_posted_and_interleaved_answers_are_kept() {
    let bottom = "On Tue, 1 Dec 2026 at 10:00, Ann Rep <ann@us.example> wrote:\n> Could we talk next week?\n\n\
                  Yes, Tuesday at ten works for me.\n\nKim\n";
    assert_eq!(fresh(bottom), "Yes, Tuesday at ten works for me.\n\nKim");
    let interleaved = "Ann Rep <ann@us.example> schrieb am 01.12.2026 um 10:00:\n> Passt Ihnen Dienstag?\n\
                       Ja, Dienstag passt.\n> Und haben Sie Budget?\nNoch nicht, erst im Januar.\n";
    assert_eq!(fresh(interleaved), "Ja, Dienstag passt.\nNoch nicht, erst im Januar.");
}

#[test]
fn outlook_header_blocks_and_separators_in_other_languages_end_it() {
    for (from, sent) in [
        ("From: Ann Rep", "Sent: Tuesday, December 1, 2026 10:00 AM"),
        ("Von: Ann Rep", "Gesendet: Dienstag, 1. Dezember 2026 10:00"),
        ("De : Ann Rep", "Envoyé : mardi 1 décembre 2026 10:00"),
        ("Van: Ann Rep", "Verzonden: dinsdag 1 december 2026 10:00"),
        ("Od: Ann Rep", "Wysłano: wtorek, 1 grudnia 2026 10:00"),
        ("От: Ann Rep", "Отправлено: 1 декабря 2026 г. 10:00"),
    ] {
        let text = format!("Send me the pricing.\n\n{from}\n{sent}\nSubject: Hello\n\nHello Kim, ...\n");
        assert_eq!(fresh(&text), "Send me the pricing.", "{from}");
    }
    let text = "Ok.\n\n-----Ursprüngliche Nachricht-----\nVon: Ann\nHallo\n";
    assert_eq!(fresh(text), "Ok.");
}

#[test]
fn a_sentence_that_mentions_writing_is_not_an_attribution() {
    let text = "We wrote 3 proposals:\n- one\n- two\n";
    assert_eq!(fresh(text), "We wrote 3 proposals:\n- one\n- two");
}

#[test]
fn html_replies_from_the_common_clients() {
    let gmail = "<div dir=\"ltr\">Yes please.</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Tue, \
                 1 Dec 2026 at 10:00, Ann &lt;ann@us.example&gt; wrote:<br></div><blockquote class=\"gmail_quote\">Hi \
                 Kim</blockquote></div>";
    assert_eq!(fresh_html(gmail), "Yes please.");
    let outlook = "<div>Tuesday works.</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> \
                   Ann<br><b>Sent:</b> Tuesday</div><div>Hi Kim</div>";
    assert_eq!(fresh_html(outlook), "Tuesday works.");
    let apple = "<div>Sounds good.</div><div><br><blockquote type=\"cite\"><div>On 1 Dec 2026, at 10:00, Ann \
                 &lt;ann@us.example&gt; wrote:</div><div>Hi Kim</div></blockquote></div>";
    assert_eq!(fresh_html(apple), "Sounds good.");
    let thunderbird_bottom = "<div class=\"moz-cite-prefix\">On 01.12.2026 10:00, Ann Rep wrote:<br></div>\
                              <blockquote type=\"cite\">Could we talk?<blockquote>older</blockquote></blockquote>\
                              <p>Yes, on Tuesday.</p>";
    assert_eq!(fresh_html(thunderbird_bottom), "Yes, on Tuesday.");
    let yahoo = "<div>Thanks, not now.</div><div class=\"yahoo_quoted\"><div>On Tuesday, Ann wrote:</div>\
                 <div>Hi</div></div>";
    assert_eq!(fresh_html(yahoo), "Thanks, not now.");
    let yandex = "<div>Да, во вторник.</div><div>&nbsp;</div><div>01.12.2026, 10:00, \"Ann Rep\" \
                  &lt;ann@us.example&gt;:</div><blockquote><div>Здравствуйте!</div></blockquote>";
    assert_eq!(fresh_html(yandex), "Да, во вторник.");
}
