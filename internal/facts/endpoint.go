package facts

import "time"

// Endpoint is what a probe of one daemon address found.
type Endpoint struct {
	Address string `json:"address"`          // tcp://127.0.0.1:2376 or unix:///var/run/docker.sock
	Source  string `json:"source,omitempty"` // how the address was found: "argument", "-H flag", "daemon.json hosts", "listening socket"
	// Error says why the address could not be probed (refused, filtered, timeout).
	Error string `json:"error,omitempty"`
	// TLS is nil for a plain (or unix) endpoint.
	TLS *TLSProbe `json:"tls,omitempty"`
	API APIProbe  `json:"api"`
	// Socket is the unix socket's file, when probed on its host.
	Socket *File `json:"socket,omitempty"`
	// TookMS is how long the probe took.
	TookMS int64 `json:"tookMs"`
}

// Probed reports whether the probe got anything from the address: a TLS handshake,
// or an answer (or a refusal) of the API.
func (e *Endpoint) Probed() bool {
	return e.TLS != nil || e.API.Answered || e.API.Status != 0 || e.API.Error != ""
}

// TLSProbe is what TLS handshakes with an address showed.
type TLSProbe struct {
	// ClientCertRequested: the server asked for a client certificate (mTLS); the CA
	// names it gave are AcceptableCAs.
	ClientCertRequested bool      `json:"clientCertRequested"`
	AcceptableCAs       []string  `json:"acceptableCAs,omitempty"`
	Versions            []TLSItem `json:"versions"` // TLS 1.0 … 1.3
	Suites              []TLSItem `json:"suites"`   // TLS 1.2 suites
	// Cert is the server's leaf certificate; ChainError says why it did not verify
	// against the trusted roots for the dialled name ("" when it did).
	Cert       *CertInfo `json:"cert,omitempty"`
	ChainError string    `json:"chainError,omitempty"`
}

// TLSItem is one protocol version or cipher suite and whether the server took it.
type TLSItem struct {
	Name     string `json:"name"`
	Accepted bool   `json:"accepted"`
	Insecure bool   `json:"insecure,omitempty"` // Go's list of insecure suites (RC4, 3DES, NULL…)
	CBC      bool   `json:"cbc,omitempty"`      // CBC mode with SHA-1 MAC
}

// APIProbe is what the Engine API answered without credentials (or with the client
// certificate the user gave).
type APIProbe struct {
	Answered   bool   `json:"answered"` // /version answered 200
	WithCert   bool   `json:"withCert,omitempty"`
	Status     int    `json:"status,omitempty"`
	Server     string `json:"server,omitempty"` // the Server header
	Version    string `json:"version,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	OS         string `json:"os,omitempty"`
	// InfoRead says /info answered, so Authorization lists the authorization plugins
	// (none when empty); otherwise whether there are any is unknown.
	InfoRead      bool     `json:"infoRead,omitempty"`
	Authorization []string `json:"authorization,omitempty"`
	Error         string   `json:"error,omitempty"`
}

// CertInfo describes one certificate.
type CertInfo struct {
	Path        string    `json:"path,omitempty"` // for certificate files
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
	KeyType     string    `json:"keyType"` // RSA, ECDSA, Ed25519
	KeyBits     int       `json:"keyBits"`
	SigAlg      string    `json:"sigAlg"`
	DNSNames    []string  `json:"dnsNames,omitempty"`
	IPs         []string  `json:"ips,omitempty"`
	IsCA        bool      `json:"isCA"`
	SelfSigned  bool      `json:"selfSigned"`
	ExtKeyUsage []string  `json:"extKeyUsage,omitempty"` // serverAuth, clientAuth, any
	// NameMatches: the certificate is valid for the name that was dialled.
	NameMatches bool   `json:"nameMatches"`
	DialledName string `json:"dialledName,omitempty"`
}

// Registry is what a probe of a registry found.
type Registry struct {
	URL   string `json:"url"`
	Error string `json:"error,omitempty"`
	// TLS is nil for a plain-HTTP registry.
	TLS *TLSProbe `json:"tls,omitempty"`
	// V2 is the anonymous answer to GET /v2/: its status, the auth scheme and realm of
	// its challenge, and the API version header.
	V2Status   int    `json:"v2Status"`
	AuthScheme string `json:"authScheme,omitempty"` // Basic, Bearer, "" (none asked)
	AuthRealm  string `json:"authRealm,omitempty"`
	APIHeader  string `json:"apiHeader,omitempty"`
	// Anonymous holds what an anonymous client could do; Authenticated what the
	// given credentials could (nil without credentials).
	Anonymous     RegistryAccess  `json:"anonymous"`
	Authenticated *RegistryAccess `json:"authenticated,omitempty"`
	Identity      string          `json:"identity,omitempty"` // the user name of the credentials
	// AuthError says why the credentials were not probed (a plain-HTTP realm, a
	// certificate that does not verify, a refusal); nothing was sent in clear.
	AuthError string `json:"authError,omitempty"`
	// Repository is the repository the pull, delete and push probes used.
	Repository string `json:"repository,omitempty"`
	// DeleteStatus is the answer to DELETE of an all-zero manifest digest: 404 means
	// deletes are enabled (the manifest is just unknown), 405 disabled.
	DeleteStatus int `json:"deleteStatus,omitempty"`
	// DeleteError says why the delete probe got no answer.
	DeleteError string `json:"deleteError,omitempty"`
}

// RegistryAccess is what one identity could do.
type RegistryAccess struct {
	Catalog bool `json:"catalog"` // GET /v2/_catalog answered 200 with a catalog
	// CatalogStatus is the status of that answer (0 when none came) and CatalogError
	// why it was not read: a timeout, an oversized or unreadable body, a redirect.
	CatalogStatus int      `json:"catalogStatus,omitempty"`
	CatalogError  string   `json:"catalogError,omitempty"`
	Repositories  []string `json:"repositories,omitempty"` // the first few, from the catalog
	Pull          bool     `json:"pull"`                   // a manifest of Repository was readable
	PullTried     bool     `json:"pullTried"`
	// PullStatus is the answer to the manifest GET (0 when none came) and PullError
	// why there was none.
	PullStatus int    `json:"pullStatus,omitempty"`
	PullError  string `json:"pullError,omitempty"`
	Push       bool   `json:"push"` // an upload session opened (and was cancelled)
	PushTried  bool   `json:"pushTried"`
	PushStatus int    `json:"pushStatus,omitempty"`
	PushError  string `json:"pushError,omitempty"`
}

// TLSMaterial is the daemon's TLS files as read on its host.
type TLSMaterial struct {
	CA     *CertInfo `json:"ca,omitempty"`
	Server *CertInfo `json:"server,omitempty"`
	// Errors are files that could not be read or parsed, by path.
	Errors map[string]string `json:"errors,omitempty"`
	// CAKeys are private keys found beside the CA certificate (ca-key.pem and the
	// like): whoever reads one can mint client certificates.
	CAKeys []string `json:"caKeys,omitempty"`
}
