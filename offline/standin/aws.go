package standin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Plugin versions the stand-ins report: the versions of the SDKs in go.mod
// (a test keeps them equal).
const (
	AWSVersion    = "6.83.4"
	AWSXVersion   = "2.22.0"
	DockerVersion = "4.11.2"
)

// FakeAccountID is the account every stand-in data source reports: AWS's
// documentation example account, never a real one.
const FakeAccountID = "123456789012"

// DefaultRegion answers region-dependent data sources when the provider was
// configured without a region.
const DefaultRegion = "us-east-1"

// NewAWS returns the stand-in aws provider.
func NewAWS() *Provider {
	return &Provider{
		Name:     "aws",
		Version:  AWSVersion,
		Defaults: Config{"region": DefaultRegion},
		Invokes: map[string]InvokeFunc{
			"aws:index/getCallerIdentity:getCallerIdentity":         callerIdentity,
			"aws:index/getRegion:getRegion":                         region,
			"aws:index/getPartition:getPartition":                   partition,
			"aws:index/getAvailabilityZones:getAvailabilityZones":   availabilityZones,
			"aws:ecr/getAuthorizationToken:getAuthorizationToken":   ecrAuthorizationToken,
			"aws:iam/getPolicyDocument:getPolicyDocument":           policyDocument,
			"aws:index/getDefaultTags:getDefaultTags":               defaultTags,
			"aws:elb/getServiceAccount:getServiceAccount":           elbServiceAccount,
			"aws:iam/getSessionContext:getSessionContext":           sessionContext,
			"aws:index/getServicePrincipal:getServicePrincipal":     servicePrincipal,
			"aws:iam/getServicePrincipal:getServicePrincipal":       servicePrincipal,
			"aws:ecr/getAuthorizationToken:getAuthorizationTokenV2": ecrAuthorizationToken,
		},
	}
}

// NewAWSX returns the stand-in awsx provider: the VPC component only.
func NewAWSX() *Provider {
	return &Provider{
		Name:       "awsx",
		Version:    AWSXVersion,
		Components: []string{"awsx:ec2:Vpc", "awsx:ec2:DefaultVpc"},
		Invokes:    map[string]InvokeFunc{},
	}
}

// NewDocker returns the stand-in docker provider: images pass through and
// nothing is built or pushed (a real preview does not build either).
func NewDocker() *Provider {
	return &Provider{Name: "docker", Version: DockerVersion, Invokes: map[string]InvokeFunc{}}
}

func str(s string) resource.PropertyValue { return resource.NewProperty(s) }

func strs(ss []string) resource.PropertyValue {
	arr := make([]resource.PropertyValue, len(ss))
	for i, s := range ss {
		arr[i] = str(s)
	}
	return resource.NewProperty(arr)
}

func regionOf(args resource.PropertyMap, cfg Config) string {
	if v, ok := args["region"]; ok && v.IsString() && v.StringValue() != "" {
		return v.StringValue()
	}
	if v, ok := args["name"]; ok && v.IsString() && v.StringValue() != "" {
		return v.StringValue()
	}
	if cfg["region"] != "" {
		return cfg["region"]
	}
	return DefaultRegion
}

func callerIdentity(_ resource.PropertyMap, _ Config) (resource.PropertyMap, error) {
	return resource.PropertyMap{
		"accountId": str(FakeAccountID),
		"arn":       str("arn:aws:iam::" + FakeAccountID + ":user/offline-preview"),
		"id":        str(FakeAccountID),
		"userId":    str("AIDAOFFLINEPREVIEW0000"),
	}, nil
}

func region(args resource.PropertyMap, cfg Config) (resource.PropertyMap, error) {
	r := regionOf(args, cfg)
	return resource.PropertyMap{
		"name":        str(r),
		"region":      str(r),
		"id":          str(r),
		"description": str("stand-in region " + r),
		"endpoint":    str("ec2." + r + ".amazonaws.com"),
	}, nil
}

func partition(_ resource.PropertyMap, _ Config) (resource.PropertyMap, error) {
	return resource.PropertyMap{
		"partition":        str("aws"),
		"id":               str("aws"),
		"dnsSuffix":        str("amazonaws.com"),
		"reverseDnsPrefix": str("com.amazonaws"),
	}, nil
}

// availabilityZones answers six zones, a–f, like a large region.
func availabilityZones(args resource.PropertyMap, cfg Config) (resource.PropertyMap, error) {
	r := regionOf(args, cfg)
	var names, ids, groups []string
	for i, l := range "abcdef" {
		names = append(names, r+string(l))
		ids = append(ids, fmt.Sprintf("%s-az%d", regionCode(r), i+1))
		groups = append(groups, r)
	}
	return resource.PropertyMap{
		"id":         str(r),
		"names":      strs(names),
		"zoneIds":    strs(ids),
		"groupNames": strs(groups),
	}, nil
}

// regionCode is the zone-id prefix: eu-west-1 → euw1.
func regionCode(r string) string {
	parts := strings.Split(r, "-")
	if len(parts) != 3 {
		return r
	}
	return parts[0] + parts[1][:1] + parts[2]
}

func ecrAuthorizationToken(args resource.PropertyMap, cfg Config) (resource.PropertyMap, error) {
	r := regionOf(args, cfg)
	password := "offline-preview-not-a-real-token"
	return resource.PropertyMap{
		"id":                 str(r),
		"userName":           str("AWS"),
		"password":           str(password),
		"authorizationToken": str(base64.StdEncoding.EncodeToString([]byte("AWS:" + password))),
		"proxyEndpoint":      str("https://" + FakeAccountID + ".dkr.ecr." + r + ".amazonaws.com"),
		"expiresAt":          str("2099-01-01T00:00:00Z"),
	}, nil
}

func defaultTags(_ resource.PropertyMap, cfg Config) (resource.PropertyMap, error) {
	tags := resource.PropertyMap{}
	if raw := cfg["defaultTags"]; raw != "" {
		var dt struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(raw), &dt); err == nil {
			for k, v := range dt.Tags {
				tags[resource.PropertyKey(k)] = str(v)
			}
		}
	}
	return resource.PropertyMap{"id": str("aws"), "tags": resource.NewProperty(tags)}, nil
}

func elbServiceAccount(args resource.PropertyMap, cfg Config) (resource.PropertyMap, error) {
	r := regionOf(args, cfg)
	// AWS's documented ELB account for us-east-1; only its shape matters here.
	return resource.PropertyMap{
		"id":     str("127311923021"),
		"arn":    str("arn:aws:iam::127311923021:root"),
		"region": str(r),
	}, nil
}

func sessionContext(args resource.PropertyMap, _ Config) (resource.PropertyMap, error) {
	arn := "arn:aws:iam::" + FakeAccountID + ":user/offline-preview"
	if v, ok := args["arn"]; ok && v.IsString() {
		arn = v.StringValue()
	}
	return resource.PropertyMap{
		"arn":         str(arn),
		"id":          str(arn),
		"issuerArn":   str(arn),
		"issuerId":    str("AIDAOFFLINEPREVIEW0000"),
		"issuerName":  str("offline-preview"),
		"sessionName": str(""),
	}, nil
}

func servicePrincipal(args resource.PropertyMap, cfg Config) (resource.PropertyMap, error) {
	svc := ""
	if v, ok := args["serviceName"]; ok && v.IsString() {
		svc = v.StringValue()
	}
	if svc == "" {
		return nil, fmt.Errorf("serviceName is required")
	}
	r := regionOf(args, cfg)
	return resource.PropertyMap{
		"id":     str(svc + "." + r),
		"name":   str(svc + ".amazonaws.com"),
		"suffix": str("amazonaws.com"),
		"region": str(r),
	}, nil
}

// policyDocument renders aws.iam.getPolicyDocument as the AWS provider does
// (Terraform's aws_iam_policy_document): statements in order, a single
// action/resource/identifier as a string, several as a list in reverse
// lexical order, conditions grouped by test then variable, and source /
// override documents merged by Sid.
func policyDocument(args resource.PropertyMap, _ Config) (resource.PropertyMap, error) {
	if resource.NewProperty(args).ContainsUnknowns() {
		// A statement refers to something not created yet: so is the document.
		unknown := resource.MakeComputed(str(""))
		return resource.PropertyMap{"id": unknown, "json": unknown, "minifiedJson": unknown}, nil
	}
	doc := iamDocument{Version: "2012-10-17"}
	if v := getString(args, "version"); v != "" {
		doc.Version = v
	}
	doc.ID = getString(args, "policyId")

	var merged []iamStatement
	for _, src := range getStrings(args, "sourcePolicyDocuments") {
		stmts, err := parseStatements(src)
		if err != nil {
			return nil, fmt.Errorf("sourcePolicyDocuments: %w", err)
		}
		merged = mergeBySid(merged, stmts)
	}
	if v, ok := args["statements"]; ok && v.IsArray() {
		var own []iamStatement
		for i, sv := range v.ArrayValue() {
			if !sv.IsObject() {
				return nil, fmt.Errorf("statements[%d] is not an object", i)
			}
			st, err := statementFrom(sv.ObjectValue())
			if err != nil {
				return nil, fmt.Errorf("statements[%d]: %w", i, err)
			}
			own = append(own, st)
		}
		merged = mergeBySid(merged, own)
	}
	for _, ov := range getStrings(args, "overridePolicyDocuments") {
		stmts, err := parseStatements(ov)
		if err != nil {
			return nil, fmt.Errorf("overridePolicyDocuments: %w", err)
		}
		merged = mergeBySid(merged, stmts)
	}
	doc.Statement = merged

	pretty, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	minified, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return resource.PropertyMap{
		"id":           str(fmt.Sprintf("%d", hash32(minified))),
		"json":         str(string(pretty)),
		"minifiedJson": str(string(minified)),
	}, nil
}

type iamDocument struct {
	Version   string         `json:"Version,omitempty"`
	ID        string         `json:"Id,omitempty"`
	Statement []iamStatement `json:"Statement"`
}

type iamStatement struct {
	Sid          string                    `json:"Sid,omitempty"`
	Effect       string                    `json:"Effect,omitempty"`
	Action       any                       `json:"Action,omitempty"`
	NotAction    any                       `json:"NotAction,omitempty"`
	Resource     any                       `json:"Resource,omitempty"`
	NotResource  any                       `json:"NotResource,omitempty"`
	Principal    any                       `json:"Principal,omitempty"`
	NotPrincipal any                       `json:"NotPrincipal,omitempty"`
	Condition    map[string]map[string]any `json:"Condition,omitempty"`
}

func statementFrom(m resource.PropertyMap) (iamStatement, error) {
	st := iamStatement{Sid: getString(m, "sid"), Effect: getString(m, "effect")}
	if st.Effect == "" {
		st.Effect = "Allow"
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("effect %q is neither Allow nor Deny", st.Effect)
	}
	st.Action = stringOrList(getStrings(m, "actions"))
	st.NotAction = stringOrList(getStrings(m, "notActions"))
	st.Resource = stringOrList(getStrings(m, "resources"))
	st.NotResource = stringOrList(getStrings(m, "notResources"))
	st.Principal = principals(m, "principals")
	st.NotPrincipal = principals(m, "notPrincipals")
	if v, ok := m["conditions"]; ok && v.IsArray() {
		for _, cv := range v.ArrayValue() {
			if !cv.IsObject() {
				continue
			}
			c := cv.ObjectValue()
			test, variable := getString(c, "test"), getString(c, "variable")
			if test == "" || variable == "" {
				return st, fmt.Errorf("a condition needs test and variable")
			}
			if st.Condition == nil {
				st.Condition = map[string]map[string]any{}
			}
			if st.Condition[test] == nil {
				st.Condition[test] = map[string]any{}
			}
			st.Condition[test][variable] = stringOrList(getStrings(c, "values"))
		}
	}
	return st, nil
}

func principals(m resource.PropertyMap, key string) any {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || !v.IsArray() || len(v.ArrayValue()) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, pv := range v.ArrayValue() {
		if !pv.IsObject() {
			continue
		}
		p := pv.ObjectValue()
		typ, ids := getString(p, "type"), getStrings(p, "identifiers")
		if typ == "*" {
			return "*"
		}
		if prev, ok := out[typ]; ok {
			ids = append(ids, toList(prev)...)
		}
		out[typ] = stringOrList(ids)
	}
	return out
}

func toList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []string:
		return t
	}
	return nil
}

// stringOrList is the provider's encoding: one value as a string, several
// de-duplicated and sorted in reverse, none omitted.
func stringOrList(ss []string) any {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

func parseStatements(doc string) ([]iamStatement, error) {
	var d struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	var list []iamStatement
	if err := json.Unmarshal(d.Statement, &list); err != nil {
		var one iamStatement
		if err2 := json.Unmarshal(d.Statement, &one); err2 != nil {
			return nil, err
		}
		list = []iamStatement{one}
	}
	return list, nil
}

// mergeBySid appends stmts to base, replacing a statement of base that has
// the same non-empty Sid.
func mergeBySid(base, stmts []iamStatement) []iamStatement {
	for _, st := range stmts {
		replaced := false
		if st.Sid != "" {
			for i := range base {
				if base[i].Sid == st.Sid {
					base[i], replaced = st, true
					break
				}
			}
		}
		if !replaced {
			base = append(base, st)
		}
	}
	return base
}

func getString(m resource.PropertyMap, key string) string {
	if v, ok := m[resource.PropertyKey(key)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func getStrings(m resource.PropertyMap, key string) []string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// hash32 is FNV-1a, for a stable id.
func hash32(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}
