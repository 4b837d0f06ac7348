//! Renders the Centrifugo v6 configuration that matches a centrpc server — proxy endpoint,
//! credentials, TLS, timeout, the proxies the app has hooks for, namespaces, HMAC secret and API
//! key — so the two sides never drift apart.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    time::Duration,
};

use serde_json::{json, Map, Value};

use crate::{router::namespace, server::Credentials};

/// TLS settings Centrifugo uses when it dials centrpc.
#[derive(Debug, Clone, Default)]
pub struct ProxyTls {
    /// CA that signed centrpc's certificate.
    pub server_ca: PathBuf,
    /// Centrifugo's client certificate and key, for mTLS.
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// The name to verify centrpc's certificate against, when the endpoint host differs.
    pub server_name: Option<String>,
}

/// Everything the rendered config depends on.
#[derive(Debug, Clone)]
pub struct ConfigInput {
    /// What Centrifugo dials, e.g. `grpc://127.0.0.1:10001`.
    pub endpoint: String,
    /// Centrifugo's proxy timeout.
    pub proxy_timeout: Duration,
    /// Credentials centrpc requires.
    pub credentials: Option<Credentials>,
    /// TLS towards centrpc.
    pub tls: Option<ProxyTls>,
    /// `client.token.hmac_secret_key`.
    pub hmac_secret: String,
    /// `http_api.key`.
    pub api_key: String,
    /// Centrifugo's HTTP port.
    pub port: u16,
    /// Centrifugo's HTTP bind address (`None`: all interfaces).
    pub address: Option<String>,
    /// `client.concurrency`: RPCs one connection may have in flight at once.
    pub client_concurrency: u32,
    /// `client.allowed_origins` for browser clients.
    pub allowed_origins: Vec<String>,
    /// Client headers forwarded to the connect hook (lowercase).
    pub forward_headers: Vec<String>,
    /// The registered RPC method names.
    pub methods: Vec<String>,
    /// Proxy events with hooks: `connect`, `refresh`, `subscribe`, `publish`, `sub_refresh`.
    pub hooks: Vec<&'static str>,
    /// Subscribe hook channel patterns.
    pub subscribe_patterns: Vec<String>,
    /// Publish hook channel patterns (typed channels clients publish into included).
    pub publish_patterns: Vec<String>,
    /// Subscription stream patterns, and whether each is bidirectional.
    pub streams: Vec<(String, bool)>,
    /// Typed channel patterns (clients may subscribe where no subscribe hook decides).
    pub channels: Vec<String>,
    /// Redis addresses for Centrifugo's Redis engine (several nodes sharing state); empty: memory.
    pub redis: Vec<String>,
    /// Key prefix in Redis, so several Centrifugo clusters can share one Redis.
    pub redis_prefix: Option<String>,
    /// Leave secret values out (they come from the environment; see [`ConfigInput::secret_env`]).
    pub omit_secrets: bool,
}

/// Which secret a Centrifugo environment variable carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The connection-token HMAC secret (centrpc's `CENTRPC_HMAC_SECRET`).
    Hmac,
    /// The server API key (`CENTRPC_CENTRIFUGO_API_KEY`).
    ApiKey,
    /// The proxy credentials value (`CENTRPC_AUTH_VALUE`).
    ProxyCredentials,
}

impl Secret {
    /// The centrpc environment variable that holds the same value.
    pub fn centrpc_env(self) -> &'static str {
        match self {
            Self::Hmac => "CENTRPC_HMAC_SECRET",
            Self::ApiKey => "CENTRPC_CENTRIFUGO_API_KEY",
            Self::ProxyCredentials => "CENTRPC_AUTH_VALUE",
        }
    }
}

impl ConfigInput {
    /// The proxy object shared by every proxy (endpoint, timeout, grpc options).
    fn proxy(&self) -> Value {
        let mut grpc = Map::new();
        if let Some(c) = &self.credentials {
            grpc.insert("credentials_key".into(), json!(c.key.to_ascii_lowercase()));
            if !self.omit_secrets {
                grpc.insert("credentials_value".into(), json!(c.value));
            }
        }
        if let Some(tls) = &self.tls {
            let mut t = Map::new();
            t.insert("enabled".into(), json!(true));
            t.insert("server_ca_pem".into(), json!(tls.server_ca));
            if let Some((cert, key)) = &tls.client_identity {
                t.insert("cert_pem".into(), json!(cert));
                t.insert("key_pem".into(), json!(key));
            }
            if let Some(name) = &tls.server_name {
                t.insert("server_name".into(), json!(name));
            }
            grpc.insert("tls".into(), Value::Object(t));
        }
        let mut proxy = json!({
            "endpoint": self.endpoint,
            "timeout": format!("{}ms", self.proxy_timeout.as_millis()),
        });
        if !grpc.is_empty() {
            proxy["grpc"] = Value::Object(grpc);
        }
        proxy
    }

    fn has(&self, hook: &str) -> bool {
        self.hooks.contains(&hook)
    }

    /// The Centrifugo environment variables that carry the secrets (Centrifugo reads env over
    /// the file), for `--omit-secrets` deployments: Kubernetes `secretKeyRef`s and the like.
    pub fn secret_env(&self) -> Vec<(String, Secret)> {
        let mut env = vec![
            (
                "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY".to_owned(),
                Secret::Hmac,
            ),
            ("CENTRIFUGO_HTTP_API_KEY".to_owned(), Secret::ApiKey),
        ];
        if self.credentials.is_some() {
            let mut proxies = vec!["RPC_PROXY"];
            for (hook, prefix) in [
                ("connect", "CLIENT_PROXY_CONNECT"),
                ("refresh", "CLIENT_PROXY_REFRESH"),
                ("subscribe", "CHANNEL_PROXY_SUBSCRIBE"),
                ("publish", "CHANNEL_PROXY_PUBLISH"),
                ("sub_refresh", "CHANNEL_PROXY_SUB_REFRESH"),
            ] {
                if self.has(hook) {
                    proxies.push(prefix);
                }
            }
            if !self.streams.is_empty() {
                proxies.push("CHANNEL_PROXY_SUBSCRIBE_STREAM");
            }
            for p in proxies {
                env.push((
                    format!("CENTRIFUGO_{p}_GRPC_CREDENTIALS_VALUE"),
                    Secret::ProxyCredentials,
                ));
            }
        }
        env
    }

    /// Renders the configuration as JSON.
    pub fn render(&self) -> Value {
        let proxy = self.proxy();
        let mut rpc_proxy = proxy.clone();
        rpc_proxy["include_connection_meta"] = json!(true);

        let mut client = json!({
            "allowed_origins": self.allowed_origins,
            "concurrency": self.client_concurrency,
        });
        if !self.omit_secrets {
            client["token"] = json!({ "hmac_secret_key": self.hmac_secret });
        }
        for hook in ["connect", "refresh"] {
            if self.has(hook) {
                let mut p = proxy.clone();
                p["enabled"] = json!(true);
                if hook == "connect" && !self.forward_headers.is_empty() {
                    p["http_headers"] = json!(self.forward_headers);
                }
                client["proxy"][hook] = p;
            }
        }

        let rpc_namespaces: BTreeSet<&str> =
            self.methods.iter().filter_map(|m| namespace(m)).collect();
        let rpc = json!({
            "proxy": rpc_proxy,
            "without_namespace": { "proxy_enabled": true },
            "namespaces": rpc_namespaces.iter()
                .map(|ns| json!({ "name": ns, "proxy_enabled": true }))
                .collect::<Vec<_>>(),
        });

        let mut config = json!({
            "http_server": self.http_server(),
            "client": client,
            "http_api": {},
            "rpc": rpc,
            "channel": self.channel(&proxy),
            "health": { "enabled": true },
            "prometheus": { "enabled": true },
            "usage_stats": { "disabled": true },
        });
        if !self.omit_secrets {
            config["http_api"]["key"] = json!(self.api_key);
        }
        if !self.redis.is_empty() {
            let mut redis = json!({ "address": self.redis });
            if let Some(prefix) = &self.redis_prefix {
                redis["prefix"] = json!(prefix);
            }
            config["engine"] = json!({ "type": "redis", "redis": redis });
        }
        config
    }

    fn http_server(&self) -> Value {
        let mut server = json!({ "port": self.port });
        if let Some(address) = &self.address {
            server["address"] = json!(address);
        }
        server
    }

    /// Channel proxies and the namespaces that enable them. A pattern `ns:…` enables the proxy in
    /// namespace `ns`; a pattern without `:` (including `*`) in channels without a namespace, and
    /// `*` in every namespace but the stream namespaces (Centrifugo allows no other channel
    /// proxy next to a stream). Personal channels `#<user>` are always allowed. A typed channel
    /// no subscribe hook decides on is open to every connected client.
    fn channel(&self, proxy: &Value) -> Value {
        let stream_ns: BTreeMap<&str, bool> = self
            .streams
            .iter()
            .filter_map(|(p, bidi)| namespace(p).map(|ns| (ns, *bidi)))
            .collect();
        let mut namespaces: BTreeSet<&str> = stream_ns.keys().copied().collect();
        let patterns = self.subscribe_patterns.iter().chain(&self.publish_patterns);
        namespaces.extend(patterns.chain(&self.channels).filter_map(|p| namespace(p)));
        let flags = |ns: Option<&str>| {
            let mut o = Map::new();
            if let Some(bidi) = ns.and_then(|ns| stream_ns.get(ns)) {
                o.insert("subscribe_stream_proxy_enabled".into(), json!(true));
                if *bidi {
                    o.insert("subscribe_stream_proxy_bidirectional".into(), json!(true));
                }
                return o;
            }
            let applies = |p: &String| match (ns, namespace(p)) {
                (_, None) if p == "*" => true,
                (None, None) => true,
                (Some(ns), Some(pns)) => ns == pns,
                _ => false,
            };
            let subscribe_hook = self.subscribe_patterns.iter().any(applies);
            if subscribe_hook {
                o.insert("subscribe_proxy_enabled".into(), json!(true));
                if self.has("sub_refresh") {
                    o.insert("sub_refresh_proxy_enabled".into(), json!(true));
                }
            } else if self
                .channels
                .iter()
                .any(|p| applies(p) && !p.starts_with('#'))
            {
                o.insert("allow_subscribe_for_client".into(), json!(true));
            }
            if self.publish_patterns.iter().any(applies) {
                o.insert("publish_proxy_enabled".into(), json!(true));
            }
            o
        };
        let mut without = flags(None);
        without.insert("allow_user_limited_channels".into(), json!(true));
        let mut channel_proxy = Map::new();
        for (hook, key) in [
            ("subscribe", "subscribe"),
            ("publish", "publish"),
            ("sub_refresh", "sub_refresh"),
        ] {
            if self.has(hook) {
                channel_proxy.insert(key.into(), proxy.clone());
            }
        }
        if !self.streams.is_empty() {
            channel_proxy.insert("subscribe_stream".into(), proxy.clone());
        }
        json!({
            "proxy": channel_proxy,
            "without_namespace": without,
            "namespaces": namespaces.iter().map(|ns| {
                let mut o = flags(Some(ns));
                o.insert("name".into(), json!(ns));
                Value::Object(o)
            }).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ConfigInput {
        ConfigInput {
            endpoint: "grpc://127.0.0.1:10001".into(),
            proxy_timeout: Duration::from_millis(1500),
            credentials: Some(Credentials {
                key: "X-Auth".into(),
                value: "v".into(),
            }),
            tls: None,
            hmac_secret: "h".into(),
            api_key: "k".into(),
            port: 8000,
            address: None,
            client_concurrency: 8,
            allowed_origins: vec![],
            forward_headers: vec!["authorization".into()],
            methods: vec!["tasks.get".into(), "admin:users.ban".into()],
            hooks: vec!["connect", "subscribe", "publish"],
            subscribe_patterns: vec!["tasks:*".into(), "chat:*".into()],
            publish_patterns: vec!["chat:*".into()],
            streams: vec![],
            channels: vec![],
            redis: vec![],
            redis_prefix: None,
            omit_secrets: false,
        }
    }

    #[test]
    fn secrets_can_come_from_the_environment_instead() {
        let mut i = input();
        i.omit_secrets = true;
        i.redis = vec!["redis://10.0.0.1:6379".into()];
        let text = i.render().to_string();
        for secret in ["\"h\"", "\"k\"", "\"v\""] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
        let names: Vec<String> = i.secret_env().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY",
                "CENTRIFUGO_HTTP_API_KEY",
                "CENTRIFUGO_RPC_PROXY_GRPC_CREDENTIALS_VALUE",
                "CENTRIFUGO_CLIENT_PROXY_CONNECT_GRPC_CREDENTIALS_VALUE",
                "CENTRIFUGO_CHANNEL_PROXY_SUBSCRIBE_GRPC_CREDENTIALS_VALUE",
                "CENTRIFUGO_CHANNEL_PROXY_PUBLISH_GRPC_CREDENTIALS_VALUE",
            ]
        );
        assert_eq!(
            i.render()["engine"]["redis"]["address"],
            json!(["redis://10.0.0.1:6379"])
        );
    }

    #[test]
    fn renders_proxies_namespaces_and_secrets() {
        let c = input().render();
        assert_eq!(c["rpc"]["proxy"]["endpoint"], "grpc://127.0.0.1:10001");
        assert_eq!(c["rpc"]["proxy"]["timeout"], "1500ms");
        assert_eq!(c["rpc"]["proxy"]["grpc"]["credentials_key"], "x-auth");
        assert_eq!(
            c["rpc"]["namespaces"],
            json!([{"name":"admin","proxy_enabled":true}])
        );
        assert_eq!(c["client"]["proxy"]["connect"]["enabled"], true);
        assert_eq!(
            c["client"]["proxy"]["connect"]["http_headers"],
            json!(["authorization"])
        );
        assert!(c["client"]["proxy"].get("refresh").is_none());
        assert_eq!(
            c["channel"]["namespaces"],
            json!([
                {"name":"chat","subscribe_proxy_enabled":true,"publish_proxy_enabled":true},
                {"name":"tasks","subscribe_proxy_enabled":true},
            ])
        );
        assert_eq!(
            c["channel"]["without_namespace"],
            json!({"allow_user_limited_channels": true})
        );
        assert_eq!(c["client"]["token"]["hmac_secret_key"], "h");
        assert_eq!(c["http_api"]["key"], "k");
    }

    #[test]
    fn tls_and_wildcards() {
        let mut i = input();
        i.tls = Some(ProxyTls {
            server_ca: "/ca.pem".into(),
            client_identity: Some(("/c.pem".into(), "/c.key".into())),
            server_name: Some("localhost".into()),
        });
        i.subscribe_patterns = vec!["*".into()];
        i.publish_patterns = vec![];
        let c = i.render();
        assert_eq!(
            c["rpc"]["proxy"]["grpc"]["tls"],
            json!({
                "enabled": true, "server_ca_pem": "/ca.pem", "cert_pem": "/c.pem", "key_pem": "/c.key", "server_name": "localhost"
            })
        );
        assert_eq!(
            c["channel"]["without_namespace"]["subscribe_proxy_enabled"],
            true
        );
    }

    #[test]
    fn stream_namespaces_stand_alone_and_typed_channels_are_open_to_clients() {
        let mut i = input();
        i.streams = vec![("watch:*".into(), false), ("tally:*".into(), true)];
        i.channels = vec!["tasks:*".into(), "news:*".into(), "#*".into()];
        i.subscribe_patterns = vec!["tasks:*".into(), "*".into()];
        let c = i.render();
        assert_eq!(
            c["channel"]["namespaces"],
            json!([
                {"name":"chat","subscribe_proxy_enabled":true,"publish_proxy_enabled":true},
                {"name":"news","subscribe_proxy_enabled":true},
                {"name":"tally","subscribe_stream_proxy_enabled":true,"subscribe_stream_proxy_bidirectional":true},
                {"name":"tasks","subscribe_proxy_enabled":true},
                {"name":"watch","subscribe_stream_proxy_enabled":true},
            ]),
            "a `*` hook reaches every namespace but the stream namespaces"
        );
        assert_eq!(
            c["channel"]["proxy"]["subscribe_stream"]["endpoint"],
            "grpc://127.0.0.1:10001"
        );
        assert!(i
            .secret_env()
            .iter()
            .any(|(k, _)| k == "CENTRIFUGO_CHANNEL_PROXY_SUBSCRIBE_STREAM_GRPC_CREDENTIALS_VALUE"));
        // Without a subscribe hook that decides, a typed channel is open to connected clients;
        // personal channels stay limited to their user.
        i.subscribe_patterns = vec!["tasks:*".into()];
        let c = i.render();
        let news = &c["channel"]["namespaces"][1];
        assert_eq!(
            news,
            &json!({"name":"news","allow_subscribe_for_client":true})
        );
        assert!(c["channel"]["without_namespace"]
            .get("allow_subscribe_for_client")
            .is_none());
        assert_eq!(
            c["channel"]["without_namespace"]["allow_user_limited_channels"],
            true
        );
    }
}
