//! Each rewrite on a small document of the form it is for.

use super::*;

fn rewritten(text: &str) -> String {
    rewrite(text).unwrap_or_else(|| panic!("not rewritten: {text}"))
}

#[test]
fn an_rss_without_channel_gets_one_and_a_version() {
    assert_eq!(
        rewritten("<rss>\n</rss>"),
        "<rss version=\"2.0\"><channel>\n</channel></rss>"
    );
    assert_eq!(
        rewritten("<rss version=\"0.91\"><item><title>a</title></item></rss>"),
        "<rss version=\"0.91\"><channel><item><title>a</title></item></channel></rss>"
    );
    assert_eq!(rewritten("<rss/>"), "<rss version=\"2.0\"><channel/></rss>");
    assert!(
        rewrite("<rss version=\"2.0\"><channel/></rss>").is_none(),
        "nothing to do"
    );
    assert_eq!(
        rewritten("<rss version=\"2.01\"><channel/></rss>"),
        "<rss version=\"2.0\"><channel/></rss>"
    );
}

#[test]
fn prefixed_and_foreign_atom_roots_become_atom_1() {
    let prefixed = "<atom:feed xmlns:atom=\"http://www.w3.org/2005/Atom\"><atom:title>T</atom:title>\
                    <atom:entry><atom:title>E</atom:title></atom:entry></atom:feed>";
    assert_eq!(
        rewritten(prefixed),
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><entry><title>E</title></entry></feed>"
    );
    let foreign = "<feed version=\"0.3\" xmlns=\"http://example.com/newformat#\"><title>T</title></feed>";
    assert_eq!(
        rewritten(foreign),
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title></feed>"
    );
}

#[test]
fn atom_text_types_are_named_as_atom_1_names_them_and_base64_is_decoded() {
    let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>\
               <title type=\"application/xhtml+xml\" mode=\"xml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">x</div></title>\
               <summary type=\"application/octet-stream\">\n RXhhbXBsZSA8Yj5BdG9tPC9iPg==\n</summary>\
               <content type=\"text/html\">&lt;b&gt;y&lt;/b&gt;</content></entry></feed>";
    let out = rewritten(doc);
    assert!(out.contains("<title type=\"xhtml\"><div"), "{out}");
    assert!(
        out.contains("<summary type=\"html\">Example &lt;b&gt;Atom&lt;/b&gt;</summary>"),
        "{out}"
    );
    assert!(
        out.contains("<content type=\"html\">&lt;b&gt;y&lt;/b&gt;</content>"),
        "{out}"
    );
    let atom03 = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry>\
                  <title mode=\"base64\">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>\
                  <issued>2004-01-01T00:00:00Z</issued></entry></feed>";
    let out = rewritten(atom03);
    assert!(
        out.contains("<title type=\"html\">Example &lt;b&gt;Atom&lt;/b&gt;</title>"),
        "{out}"
    );
    assert!(out.contains("<published>2004-01-01T00:00:00Z</published>"), "{out}");
    assert!(out.contains("xmlns=\"http://www.w3.org/2005/Atom\""), "{out}");
}

#[test]
fn a_cdf_channel_becomes_rss() {
    let cdf = "<CHANNEL HREF=\"http://example.org/\"><TITLE>Example feed</TITLE>\
               <ITEM HREF=\"http://example.org/1\" LASTMOD=\"2004-04-06T23:05:43-05:00\"><TITLE>One</TITLE>\
               <ABSTRACT>About one</ABSTRACT><LOGO HREF=\"x.gif\"/></ITEM></CHANNEL>";
    assert_eq!(
        rewritten(cdf),
        "<rss version=\"2.0\"><channel><link>http://example.org/</link><title>Example feed</title>\
         <item><link>http://example.org/1</link><pubDate>2004-04-06T23:05:43-05:00</pubDate><title>One</title>\
         <description>About one</description></item></channel></rss>"
    );
}

#[test]
fn ordinary_feeds_are_left_alone() {
    assert!(rewrite("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title></feed>").is_none());
    let github = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link type=\"text/html\" rel=\"alternate\" href=\"x\"/>\
                  <entry><content type=\"html\">data:image/png;base64,AAAA</content></entry></feed>";
    assert!(
        rewrite(github).is_none(),
        "a link's MIME type and base64 in content need nothing"
    );
    assert!(rewrite("<rdf:RDF xmlns:rdf=\"x\"><channel/></rdf:RDF>").is_none());
    assert!(rewrite("not xml at all <<<").is_none());
}
