//! A small browser for page tests over HTTP: it keeps the session cookie
//! the listener sets, sends `Origin` with every form like a real browser,
//! follows no redirect on its own (tests look at them), and finds the CSRF
//! token in a page's forms.

pub struct Browser {
    base: String,
    client: reqwest::Client,
    /// The session cookie as the listener set it ("name=value").
    pub cookie: Option<String>,
    /// The Origin header forms carry (this listener's, unless a test forges another).
    pub origin: String,
}

/// A response: status, headers, body.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The first form's CSRF token on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .map(|i| i + marker.len())
            .expect("a form with a csrf token");
        let end = self.body[start..].find('"').expect("the token's end");
        self.body[start..start + end].to_string()
    }
}

impl Browser {
    pub fn new(port: u16) -> Browser {
        let base = format!("http://127.0.0.1:{port}");
        Browser {
            origin: base.clone(),
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            cookie: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("the listener answers");
        if let Some(set) = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("").trim().to_string();
            self.cookie = match pair.split_once('=') {
                Some((_, "")) | None => None,
                Some(_) => Some(pair),
            };
        }
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// A page asked for in a language (`Accept-Language`).
    pub async fn client_get_with_language(&mut self, path: &str, language: &str) -> Page {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header("accept-language", language);
        self.send(request).await
    }

    /// Posts a form as a browser does from one of this listener's pages.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.origin)
            .form(fields);
        self.send(request).await
    }

    /// Posts a multipart form with one file, as a browser's upload does.
    pub async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Page {
        let boundary = "----rapport-test-boundary-7d1c";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, file_name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("origin", &self.origin)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        self.send(request).await
    }

    /// Signs in; panics unless the listener accepts.
    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        let page = self.post("/login", &[("email", email), ("password", password)]).await;
        assert_eq!(page.status, 303, "signing in as {email}: {}", page.body);
        page
    }
}
