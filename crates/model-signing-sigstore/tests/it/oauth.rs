//! The interactive OAuth login against a loopback provider
//! (`sigstore_standin_harness::oauth`), which checks the client's
//! authentication, the code, the redirect URI and the PKCE verifier the way
//! a real provider does. The browser is played by the callbacks: they follow
//! the login URL to the provider and the provider's redirect to our
//! listener, or, out of band, read the code off the provider's page.
//!
//! All but the last test need no stand-in: the login ends with the token
//! ([`SigstoreSigner::identity_token`]), before any Sigstore service is
//! asked. The last one signs through the stand-in with a token from a login
//! with a client secret.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use model_signing_sigstore::{
    InteractiveLogin, LoginCallbacks, LoginError, OAuthEndpoint, Secret, SigningConfig,
    SigningError, SigstoreSigner, TokenSource, MAX_RESPONSE_BYTES,
};
use serde_json::json;
use sigstore_standin_harness::oauth::{self, Canned, OAuthProvider, ProviderOptions, OOB};
use sigstore_standin_harness::{http, Flavour, StandIn};

const CLIENT: &str = "my-client";
const SECRET: &str = "s3cret: with/odd+chars&";

/// An unsigned JWT with the claims the client reads (the provider's
/// signature is Fulcio's business).
fn jwt(subject: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        part(json!({"alg": "ES256", "typ": "JWT"})),
        part(json!({
            "iss": "https://issuer.example",
            "sub": subject,
            "aud": "sigstore",
            "iat": now,
            "exp": now + 600,
        })),
        URL_SAFE_NO_PAD.encode(b"not-checked-here")
    )
}

fn provider(options: ProviderOptions) -> OAuthProvider {
    OAuthProvider::start(options).expect("provider")
}

fn confidential(id_token: &str) -> ProviderOptions {
    ProviderOptions {
        client_secret: Some(SECRET.into()),
        ..ProviderOptions::new(CLIENT, id_token)
    }
}

fn login(force_oob: bool, secret: Option<&str>) -> InteractiveLogin {
    InteractiveLogin {
        force_oob,
        client_id: CLIENT.into(),
        client_secret: secret.map(Secret::from),
    }
}

/// What the callbacks saw and did.
#[derive(Default)]
struct Record {
    /// `login_url` calls: the URL and whether a browser was opened.
    urls: Vec<(String, bool)>,
    /// The browser: its thread, ending with the status of the page our
    /// listener answered.
    browser: Option<JoinHandle<Result<u16, String>>>,
    prompts: usize,
    logged_in: bool,
}

type Tamper = fn(String) -> String;

/// A user with (or without) a browser, who logs in at once.
#[derive(Clone)]
struct User {
    record: Arc<Mutex<Record>>,
    has_browser: bool,
    /// Applied to the login URL before the browser opens it.
    login_url: Tamper,
    /// Applied to the provider's redirect before the browser follows it.
    redirect: Tamper,
}

impl User {
    fn new(has_browser: bool) -> Self {
        User {
            record: Arc::default(),
            has_browser,
            login_url: |u| u,
            redirect: |u| u,
        }
    }

    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().expect("lock")
    }

    /// Waits for the browser; the status of the page our listener served.
    fn page_status(&self) -> u16 {
        let browser = self.record().browser.take().expect("a browser was opened");
        browser
            .join()
            .expect("browser thread")
            .expect("the browser got a page")
    }
}

impl LoginCallbacks for User {
    fn open_browser(&self, url: &str) -> bool {
        if !self.has_browser {
            return false;
        }
        let (url, redirect) = ((self.login_url)(url.to_owned()), self.redirect);
        let browser = std::thread::spawn(move || {
            let location = oauth::authorize(&url).map_err(|e| e.to_string())?;
            let location = redirect(location);
            // A browser asks for other things too; they do not end the login.
            let origin = location.split("/auth/callback").next().unwrap_or_default();
            let icon = http::get(&format!("{origin}/favicon.ico")).map_err(|e| e.to_string())?;
            assert_eq!(icon.status, 404);
            http::get(&location)
                .map(|page| page.status)
                .map_err(|e| e.to_string())
        });
        self.record().browser = Some(browser);
        true
    }

    fn login_url(&self, url: &str, browser_opened: bool) {
        self.record().urls.push((url.to_owned(), browser_opened));
    }

    fn prompt_for_code(&self) -> std::io::Result<Secret> {
        let url = {
            let mut record = self.record();
            record.prompts += 1;
            record.urls.last().map(|(u, _)| u.clone())
        };
        let url = url.ok_or_else(|| std::io::Error::other("no login URL was shown"))?;
        // The out-of-band page shows the code; the user pastes it, with a newline.
        let code = oauth::authorize(&url).map_err(std::io::Error::other)?;
        Ok(Secret::new(format!("  {code}\n")))
    }

    fn logged_in(&self) {
        self.record().logged_in = true;
    }
}

/// Logs in through `provider` (production's services, `provider` as the
/// identity provider); returns the token's identity or the login error.
fn log_in(
    provider: &OAuthProvider,
    login: InteractiveLogin,
    user: &User,
) -> Result<String, SigningError> {
    log_in_at(provider.url(), login, user)
}

fn log_in_at(issuer: &str, login: InteractiveLogin, user: &User) -> Result<String, SigningError> {
    let config = SigningConfig::production()
        .expect("production")
        .with_oidc_url(issuer);
    SigstoreSigner::new(config, vec![TokenSource::Interactive(login)])
        .expect("signer")
        .with_callbacks(Box::new(user.clone()))
        .identity_token()
        .map(|token| token.identity().to_owned())
}

#[track_caller]
fn login_error(result: Result<String, SigningError>) -> LoginError {
    match result {
        Err(SigningError::Login(e)) => e,
        other => panic!("expected a login error, got {other:?}"),
    }
}

/// The whole error as the CLI prints it.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[test]
fn browser_login_with_a_client_secret() {
    let provider = provider(confidential(&jwt("https://example.com/browser")));
    let user = User::new(true);
    let identity = log_in(&provider, login(false, Some(SECRET)), &user).expect("logged in");
    assert_eq!(identity, "https://example.com/browser");
    assert_eq!(user.page_status(), 200);

    let record = user.record();
    assert!(record.logged_in);
    assert_eq!(record.prompts, 0);
    assert_eq!(record.urls.len(), 1, "{:?}", record.urls);
    let (url, opened) = &record.urls[0];
    assert!(opened);
    assert!(
        url.starts_with(&format!("{}/auth?", provider.url())),
        "{url}"
    );

    let log = provider.log();
    let auth = &log.authorizations[0];
    assert_eq!(auth["client_id"], CLIENT);
    assert_eq!(auth["code_challenge_method"], "S256");
    assert_eq!(auth["response_type"], "code");
    assert_eq!(auth["scope"], "openid email");
    let redirect = &auth["redirect_uri"];
    assert!(
        redirect.starts_with("http://localhost:") && redirect.ends_with("/auth/callback"),
        "{redirect}"
    );
    assert!(
        !url.contains("s3cret"),
        "the secret is not in the login URL"
    );

    // The secret went by HTTP Basic (the default), and only there.
    let [request] = log.token_requests.as_slice() else {
        panic!("{:?}", log.token_requests)
    };
    assert_eq!(request.status, 200, "{request:?}");
    assert_eq!(
        request.basic,
        Some((CLIENT.to_owned(), SECRET.to_owned())),
        "{request:?}"
    );
    assert!(!request.form.contains_key("client_secret"));
    assert!(!request.form.contains_key("client_id"));
    assert_eq!(&request.form["redirect_uri"], redirect);
    assert_eq!(request.form["grant_type"], "authorization_code");
    assert_eq!(request.form["code_verifier"].len(), 43);
}

#[test]
fn out_of_band_login_with_client_secret_post() {
    let provider = provider(ProviderOptions {
        auth_methods: Some(vec!["client_secret_post".into()]),
        ..confidential(&jwt("https://example.com/oob"))
    });
    // A browser is at hand, but out of band was asked for.
    let user = User::new(true);
    let identity = log_in(&provider, login(true, Some(SECRET)), &user).expect("logged in");
    assert_eq!(identity, "https://example.com/oob");
    let record = user.record();
    assert!(record.browser.is_none());
    assert_eq!(record.prompts, 1);
    let (url, opened) = &record.urls[0];
    assert!(!opened);
    assert!(
        url.contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"),
        "{url}"
    );

    let log = provider.log();
    let [request] = log.token_requests.as_slice() else {
        panic!("{:?}", log.token_requests)
    };
    assert_eq!(request.status, 200, "{request:?}");
    assert_eq!(request.basic, None);
    assert_eq!(request.form["client_id"], CLIENT);
    assert_eq!(request.form["client_secret"], SECRET);
    assert_eq!(request.form["redirect_uri"], OOB);
}

#[test]
fn without_a_browser_the_login_goes_out_of_band() {
    let provider = provider(confidential(&jwt("https://example.com/no-browser")));
    let user = User::new(false);
    let identity = log_in(&provider, login(false, Some(SECRET)), &user).expect("logged in");
    assert_eq!(identity, "https://example.com/no-browser");
    let record = user.record();
    assert_eq!(record.prompts, 1);
    assert_eq!(record.urls.len(), 1);
    assert!(!record.urls[0].1);
    assert_eq!(provider.log().authorizations[0]["redirect_uri"], OOB);
}

#[test]
fn a_public_client_sends_its_id_and_no_secret() {
    for secret in [None, Some("")] {
        let provider = provider(ProviderOptions::new(
            CLIENT,
            &jwt("https://example.com/public"),
        ));
        let user = User::new(false);
        log_in(&provider, login(true, secret), &user).expect("logged in");
        let log = provider.log();
        let request = &log.token_requests[0];
        assert_eq!(request.status, 200, "{request:?}");
        assert_eq!(request.basic, None);
        assert_eq!(request.form["client_id"], CLIENT);
        assert!(!request.form.contains_key("client_secret"));
    }
}

#[test]
fn a_wrong_secret_is_refused_with_the_providers_answer() {
    let provider = provider(confidential(&jwt("https://example.com/wrong")));
    for force_oob in [true, false] {
        let user = User::new(true);
        let err = login_error(log_in(&provider, login(force_oob, Some("wrong")), &user));
        let LoginError::Status {
            endpoint: OAuthEndpoint::Token,
            status: 401,
            error: Some(error),
            url,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(error, "invalid_client");
        assert_eq!(url, &format!("{}/token", provider.url()));
        let text = chain(&SigningError::Login(err));
        assert!(
            text.contains(&format!(
                "interactive login failed: the token endpoint {}/token answered HTTP 401: invalid_client",
                provider.url()
            )),
            "{text}"
        );
        assert!(!user.record().logged_in);
    }
    // A secret where the provider has a public client is refused too.
    let public = self::provider(ProviderOptions::new(CLIENT, &jwt("https://example.com/p")));
    let err = login_error(log_in(
        &public,
        login(true, Some(SECRET)),
        &User::new(false),
    ));
    assert!(
        matches!(err, LoginError::Status { status: 401, .. }),
        "{err:?}"
    );
}

#[test]
fn secrets_stay_out_of_messages() {
    let provider = provider(confidential(&jwt("https://example.com/quiet")));
    let secret_login = login(true, Some("wrong-but-secret"));
    assert!(!format!("{secret_login:?}").contains("wrong-but-secret"));
    assert_eq!(format!("{:?}", Secret::from("x")), "Secret(<redacted>)");
    let err = log_in(&provider, secret_login, &User::new(false)).expect_err("refused");
    let code = provider.log().token_requests[0].form["code"].clone();
    for text in [format!("{err:?}"), chain(&err)] {
        for secret in ["wrong-but-secret", code.as_str()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // Nor does the token appear in the identity token's Debug.
    let user = User::new(false);
    let config = SigningConfig::production()
        .expect("production")
        .with_oidc_url(provider.url());
    let token = SigstoreSigner::new(
        config,
        vec![TokenSource::Interactive(login(true, Some(SECRET)))],
    )
    .expect("signer")
    .with_callbacks(Box::new(user))
    .identity_token()
    .expect("token");
    let jwt_text = jwt("https://example.com/quiet");
    let signature = jwt_text.rsplit('.').next().expect("signature");
    assert!(!format!("{token:?}").contains(signature));
}

#[test]
fn a_forged_state_is_refused_before_the_exchange() {
    let provider = provider(confidential(&jwt("https://example.com/state")));
    let mut user = User::new(true);
    user.redirect = |location| {
        let (base, state) = location.split_once("&state=").expect("a state");
        assert!(!state.is_empty());
        format!("{base}&state=forged")
    };
    let err = login_error(log_in(&provider, login(false, Some(SECRET)), &user));
    assert!(matches!(err, LoginError::StateMismatch), "{err:?}");
    assert_eq!(user.page_status(), 400);
    assert!(
        provider.log().token_requests.is_empty(),
        "the code was not used"
    );

    // And a redirect without any state.
    user.redirect = |location| {
        location
            .split("&state=")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let err = login_error(log_in(&provider, login(false, Some(SECRET)), &user));
    assert!(matches!(err, LoginError::StateMismatch), "{err:?}");
}

#[test]
fn a_provider_error_in_the_redirect_is_reported() {
    let provider = provider(confidential(&jwt("https://example.com/denied")));
    let mut user = User::new(true);
    user.redirect = |location| {
        let (base, rest) = location.split_once("?code=").expect("a code");
        let state = rest.split("&state=").nth(1).expect("a state");
        format!("{base}?error=access_denied&error_description=the+user+said+no&state={state}")
    };
    let err = login_error(log_in(&provider, login(false, Some(SECRET)), &user));
    assert_eq!(
        err.to_string(),
        "the identity provider refused the login: access_denied (the user said no)"
    );
    assert_eq!(user.page_status(), 400);
}

#[test]
fn a_wrong_pkce_verifier_is_refused_by_the_provider() {
    let provider = provider(confidential(&jwt("https://example.com/pkce")));
    // The login request is tampered with on its way: the code is bound to
    // another challenge than ours, so our verifier does not match it.
    let mut user = User::new(true);
    user.login_url = |url| {
        let (before, after) = url.split_once("code_challenge=").expect("a challenge");
        let rest = after.split_once('&').map_or("", |(_, r)| r);
        let other = URL_SAFE_NO_PAD.encode([7u8; 32]);
        format!("{before}code_challenge={other}&{rest}")
    };
    let err = login_error(log_in(&provider, login(false, Some(SECRET)), &user));
    let LoginError::Status {
        endpoint: OAuthEndpoint::Token,
        status: 400,
        error: Some(error),
        description: Some(description),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(error, "invalid_grant");
    assert!(description.contains("PKCE"), "{description}");
    assert_eq!(user.page_status(), 200, "the redirect itself was fine");
}

#[test]
fn token_endpoint_errors_are_reported_with_their_status() {
    for (status, body, expected) in [
        (
            503,
            r#"{"error": "temporarily_unavailable", "error_description": "try later"}"#,
            "answered HTTP 503: temporarily_unavailable (try later)",
        ),
        (500, "<html>oops</html>", "answered HTTP 500"),
        // An OAuth error object with a success status is an error too.
        (
            200,
            r#"{"error": "invalid_grant"}"#,
            "answered HTTP 200: invalid_grant",
        ),
        (
            200,
            r#"{"access_token": "a", "token_type": "Bearer"}"#,
            "answered with an unusable document: no id_token",
        ),
        (
            200,
            "not json",
            "answered with an unusable document: not JSON",
        ),
        (
            200,
            r#"{"id_token": "not-a-jwt"}"#,
            "the identity token from the token endpoint is unusable",
        ),
    ] {
        let provider = provider(ProviderOptions {
            token_answer: Some(Canned {
                status,
                body: body.as_bytes().to_vec(),
                content_length: true,
                location: None,
            }),
            ..confidential(&jwt("https://example.com/canned"))
        });
        let err = login_error(log_in(
            &provider,
            login(true, Some(SECRET)),
            &User::new(false),
        ));
        let text = err.to_string();
        assert!(text.contains(expected), "{body}: {text}");
        if !text.contains("identity token") {
            assert!(
                text.contains(&format!("the token endpoint {}/token", provider.url())),
                "{text}"
            );
        }
        if status != 200 {
            assert!(
                matches!(err, LoginError::Status { status: s, .. } if s == status),
                "{err:?}"
            );
        }
    }
}

/// A redirect from the token endpoint is reported, not followed: it would
/// take the form (and a form-borne secret) elsewhere.
#[test]
fn token_endpoint_redirects_are_not_followed() {
    let options = ProviderOptions {
        auth_methods: Some(vec!["client_secret_post".into()]),
        ..confidential(&jwt("https://example.com/moved"))
    };
    let provider = OAuthProvider::start(options.clone()).expect("provider");
    let moved = OAuthProvider::start(ProviderOptions {
        token_answer: Some(Canned {
            status: 307,
            body: Vec::new(),
            content_length: true,
            location: Some(format!("{}/token", provider.url())),
        }),
        ..options
    })
    .expect("provider");
    let err = login_error(log_in(&moved, login(true, Some(SECRET)), &User::new(false)));
    assert!(
        matches!(
            err,
            LoginError::Status {
                endpoint: OAuthEndpoint::Token,
                status: 307,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(provider.log().requests.is_empty(), "{:?}", provider.log());
}

#[test]
fn oversized_token_answers_are_refused() {
    let padding = "x".repeat(MAX_RESPONSE_BYTES);
    let body = json!({"id_token": jwt("https://example.com/big"), "padding": padding}).to_string();
    for content_length in [true, false] {
        let provider = provider(ProviderOptions {
            token_answer: Some(Canned {
                status: 200,
                body: body.clone().into_bytes(),
                content_length,
                location: None,
            }),
            ..confidential("unused")
        });
        let err = login_error(log_in(
            &provider,
            login(true, Some(SECRET)),
            &User::new(false),
        ));
        assert!(
            matches!(
                &err,
                LoginError::TooLarge { endpoint: OAuthEndpoint::Token, limit, .. }
                    if *limit == MAX_RESPONSE_BYTES
            ),
            "{err:?}"
        );
    }
    // Just under the limit is fine.
    let fits = json!({"id_token": jwt("https://example.com/fits"), "padding": ""}).to_string();
    let padding = "x".repeat(MAX_RESPONSE_BYTES - fits.len());
    let body = json!({"id_token": jwt("https://example.com/fits"), "padding": padding}).to_string();
    assert_eq!(body.len(), MAX_RESPONSE_BYTES);
    let provider = provider(ProviderOptions {
        token_answer: Some(Canned {
            status: 200,
            body: body.into_bytes(),
            content_length: false,
            location: None,
        }),
        ..confidential("unused")
    });
    let identity = log_in(&provider, login(true, Some(SECRET)), &User::new(false)).expect("fits");
    assert_eq!(identity, "https://example.com/fits");
}

#[test]
fn the_secret_goes_only_to_https_or_loopback() {
    let provider = provider(ProviderOptions {
        token_endpoint: Some("http://idp.example.com/token".into()),
        ..confidential(&jwt("https://example.com/plain"))
    });
    let user = User::new(false);
    let err = login_error(log_in(&provider, login(true, Some(SECRET)), &user));
    assert!(
        matches!(&err, LoginError::Insecure { endpoint: OAuthEndpoint::Token, url } if url == "http://idp.example.com/token"),
        "{err:?}"
    );
    assert!(user.record().urls.is_empty(), "refused before the login");
    let err = login_error(log_in_at(
        "http://idp.example.com",
        login(true, None),
        &user,
    ));
    assert!(
        matches!(
            &err,
            LoginError::Insecure {
                endpoint: OAuthEndpoint::Discovery,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn discovery_failures_name_the_document() {
    let provider = provider(confidential(&jwt("https://example.com/d")));
    let issuer = format!("{}/elsewhere", provider.url());
    let err = login_error(log_in_at(&issuer, login(true, None), &User::new(false)));
    assert_eq!(
        err.to_string(),
        format!("the OIDC discovery document {issuer}/.well-known/openid-configuration answered HTTP 404")
    );
    // Nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let err = login_error(log_in_at(&issuer, login(true, None), &User::new(false)));
    assert!(
        matches!(&err, LoginError::Request { endpoint: OAuthEndpoint::Discovery, url, .. }
            if url.starts_with(&issuer)),
        "{err:?}"
    );
}

/// End to end: a login with a client secret gives the token that Fulcio
/// (the stand-in's) certifies, and the signature names its subject.
#[test]
fn a_login_with_a_client_secret_signs_through_the_standin() {
    let standin = StandIn::shared();
    let subject = "https://example.com/confidential-client";
    let id_token = standin.identity_token(subject).expect("token");
    let provider = provider(confidential(&id_token));
    for force_oob in [true, false] {
        let config = SigningConfig::from_trust_config_file(standin.trust_config(Flavour::RekorV1))
            .expect("config")
            .with_oidc_url(provider.url());
        assert_eq!(config.oidc_url(), Some(provider.url()));
        let user = User::new(true);
        let signed = SigstoreSigner::new(
            config,
            vec![TokenSource::Interactive(login(force_oob, Some(SECRET)))],
        )
        .expect("signer")
        .with_callbacks(Box::new(user.clone()))
        .sign_message(b"signed after a confidential login")
        .expect("signs");
        assert_eq!(signed.identity(), Some(subject));
        assert_eq!(signed.issuer(), Some(standin.issuer()));
        assert!(user.record().logged_in);
    }
    assert_eq!(provider.log().token_requests.len(), 2);
}
