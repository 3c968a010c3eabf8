// Package standin serves stand-in Pulumi resource providers for the offline
// preview: gRPC servers that the real Pulumi engine attaches to through
// PULUMI_DEBUG_PROVIDERS="aws:PORT,awsx:PORT,docker:PORT" in place of the
// plugins it would otherwise download.
//
// They never call AWS or Docker. What they do, and nothing more:
//
//   - Resources pass through: Check returns the inputs, and a preview Create
//     returns the inputs as the planned state with no id, so every output the
//     cloud would compute (ids, ARNs, endpoints) stays unknown, exactly as in
//     a real first preview. Anything but a preview is refused.
//   - Invoke answers the data sources the program calls (Invokes): fixed,
//     obviously fake account data, and IAM policy documents rendered for real.
//     An invoke without an answer fails loudly with its token.
//   - Construct (awsx) registers the remote component through the engine's
//     resource monitor, as Go component providers do, and leaves its outputs
//     unset so they are unknown in preview. Its children (the VPC, subnets,
//     NAT gateways, …) are not modelled.
//   - Configure logs a warning through the engine, so every preview's
//     diagnostics say that these are stand-ins and not AWS.
package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Banner is the label every offline-preview output carries.
const Banner = "OFFLINE PREVIEW: the real Pulumi engine with stand-in providers, not AWS"

// Warning is what each stand-in provider logs through the engine when it is
// configured; it ends up in the preview's diagnostics and its JSON.
func Warning(pkg string) string {
	return fmt.Sprintf("%s: %q is a stand-in provider (offline/standin): no cloud API is called; "+
		"values the cloud would compute are unknown and data sources return fake account data", Banner, pkg)
}

// InvokeFunc answers one data source. args are the invoke's arguments (secrets
// unwrapped); config is the provider's configuration (e.g. "region").
type InvokeFunc func(args resource.PropertyMap, config Config) (resource.PropertyMap, error)

// Config is a provider's configuration as the engine passed it to Configure,
// keyed without the package prefix ("region", "defaultTags").
type Config map[string]string

// Provider is one stand-in resource provider.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	// Name is the package ("aws"), Version the plugin version it reports.
	Name    string
	Version string
	// Invokes answers data sources by token ("aws:index/getRegion:getRegion").
	Invokes map[string]InvokeFunc
	// Components are the remote component types Construct accepts
	// ("awsx:ec2:Vpc"); empty means Construct is refused.
	Components []string
	// Defaults are config values used when the engine passes none (the
	// region when a stack sets no aws:region is the program's problem, but a
	// data source still needs one to answer).
	Defaults Config

	mu         sync.Mutex
	engineConn *grpc.ClientConn
	config     Config
	log        []string
}

// Calls returns what the provider was asked, one line per call
// ("invoke aws:index/getRegion:getRegion", "construct awsx:ec2:Vpc name"),
// for tests and the runner's summary.
func (p *Provider) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *Provider) record(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, fmt.Sprintf(format, args...))
}

// Serve starts p on a free 127.0.0.1 port and returns the port and a stop
// function that waits for the server to finish.
func Serve(p *Provider) (port int, stop func(), err error) {
	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, p)
			return nil
		},
	})
	if err != nil {
		return 0, nil, fmt.Errorf("stand-in %s provider: %w", p.Name, err)
	}
	var once sync.Once
	return handle.Port, func() {
		once.Do(func() {
			close(cancel)
			if err := <-handle.Done; err != nil {
				p.record("serve: %v", err)
			}
			p.mu.Lock()
			if p.engineConn != nil {
				_ = p.engineConn.Close()
			}
			p.mu.Unlock()
		})
	}, nil
}

func (p *Provider) connectEngine(addr string) error {
	if addr == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.engineConn != nil {
		return nil
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions(),
	)
	if err != nil {
		return fmt.Errorf("stand-in %s provider: dialing the engine at %s: %w", p.Name, addr, err)
	}
	p.engineConn = conn
	return nil
}

func (p *Provider) engine() *grpc.ClientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.engineConn
}

// Handshake is the engine's first call; it carries the engine's address.
func (p *Provider) Handshake(_ context.Context, req *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	if err := p.connectEngine(req.GetEngineAddress()); err != nil {
		return nil, err
	}
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

// Attach is how the engine hands its address to a provider it did not start.
func (p *Provider) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, p.connectEngine(req.GetAddress())
}

// GetPluginInfo reports the version of the real plugin this stands in for.
func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.Version}, nil
}

// GetSchema returns a minimal schema; the engine needs none for a preview.
func (p *Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, p.Name, p.Version)}, nil
}

// CheckConfig accepts any provider configuration as given.
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig reports no change: the stand-in has no state to replace.
func (p *Provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure records the configuration and warns, through the engine, that
// this is a stand-in.
func (p *Provider) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	cfg := Config{}
	for k, v := range p.Defaults {
		cfg[k] = v
	}
	if args := req.GetArgs(); args != nil {
		props, err := plugin.UnmarshalProperties(args, plugin.MarshalOptions{KeepUnknowns: true})
		if err != nil {
			return nil, fmt.Errorf("stand-in %s provider: configuration: %w", p.Name, err)
		}
		for k, v := range props {
			switch {
			case v.IsString():
				cfg[string(k)] = v.StringValue()
			case v.IsObject() || v.IsArray():
				// e.g. defaultTags, kept as JSON like the engine's config.
				if b, err := json.Marshal(v.Mappable()); err == nil {
					cfg[string(k)] = string(b)
				}
			}
		}
	}
	p.mu.Lock()
	p.config = cfg
	p.mu.Unlock()
	p.record("configure %s", req.GetUrn())

	if conn := p.engine(); conn != nil {
		_, err := pulumirpc.NewEngineClient(conn).Log(ctx, &pulumirpc.LogRequest{
			Severity: pulumirpc.LogSeverity_WARNING,
			Message:  Warning(p.Name),
			Urn:      req.GetUrn(),
		})
		if err != nil {
			return nil, fmt.Errorf("stand-in %s provider: logging to the engine: %w", p.Name, err)
		}
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (p *Provider) currentConfig() Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := Config{}
	for k, v := range p.Defaults {
		out[k] = v
	}
	for k, v := range p.config {
		out[k] = v
	}
	return out
}

// Check returns the inputs unchanged: no validation, no defaults, no
// auto-names (a real provider would add e.g. name: "books-dev-xyz-1a2b3c4").
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	p.record("check %s", req.GetUrn())
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// Diff reports no change; a fresh offline stack never has old state to diff.
func (p *Provider) Diff(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// ErrNotPreview is returned for every operation that would change or read
// real infrastructure.
var ErrNotPreview = errors.New("stand-in providers only preview: nothing can be created, read, updated or deleted offline")

// Create, during a preview, plans the resource as its inputs with no id, so
// every computed output is unknown.
func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if !req.GetPreview() {
		return nil, fmt.Errorf("%s: create %s: %w", p.Name, req.GetUrn(), ErrNotPreview)
	}
	return &pulumirpc.CreateResponse{Id: "", Properties: req.GetProperties()}, nil
}

// Read is refused: there is nothing to read offline.
func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return nil, fmt.Errorf("%s: read %s: %w", p.Name, req.GetUrn(), ErrNotPreview)
}

// Update, during a preview, plans the new inputs (unused on a fresh stack).
func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !req.GetPreview() {
		return nil, fmt.Errorf("%s: update %s: %w", p.Name, req.GetUrn(), ErrNotPreview)
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
}

// Delete is refused.
func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return nil, fmt.Errorf("%s: delete %s: %w", p.Name, req.GetUrn(), ErrNotPreview)
}

// Cancel has nothing to cancel.
func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// Invoke answers a data source from p.Invokes.
func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	tok := req.GetTok()
	p.record("invoke %s", tok)
	fn, ok := p.Invokes[tok]
	if !ok {
		return nil, fmt.Errorf("stand-in %s provider has no answer for data source %s: add one to offline/standin", p.Name, tok)
	}
	args, err := plugin.UnmarshalProperties(req.GetArgs(), plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tok, err)
	}
	// Results are plain, as a real provider's are: the SDK makes an
	// output-form invoke's result secret when an argument was, and a plain
	// invoke rejects secret results outright.
	result, err := fn(unwrapSecrets(args), p.currentConfig())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tok, err)
	}
	ret, err := plugin.MarshalProperties(result, plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tok, err)
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// Construct registers a remote component (awsx:ec2:Vpc) with the engine's
// resource monitor, as a Go component provider's Construct does, and returns
// it with no outputs, which the program sees as unknown in preview. The
// registration is done on the wire rather than through
// sdk/go/pulumi/provider.Construct, whose package would pull OpenTelemetry
// modules into the program's go.mod for this one call.
func (p *Provider) Construct(ctx context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	typ := req.GetType()
	p.record("construct %s %s", typ, req.GetName())
	if !slices.Contains(p.Components, typ) {
		return nil, fmt.Errorf("stand-in %s provider cannot construct %s (known: %s)", p.Name, typ, strings.Join(p.Components, ", "))
	}
	if !req.GetDryRun() {
		return nil, fmt.Errorf("%s: construct %s: %w", p.Name, typ, ErrNotPreview)
	}
	conn, err := grpc.NewClient(req.GetMonitorEndpoint(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions(),
	)
	if err != nil {
		return nil, fmt.Errorf("stand-in %s provider: dialing the resource monitor: %w", p.Name, err)
	}
	defer conn.Close()
	monitor := pulumirpc.NewResourceMonitorClient(conn)

	var deps []string
	deps = append(deps, req.GetDependencies()...)
	reg, err := monitor.RegisterResource(ctx, &pulumirpc.RegisterResourceRequest{
		Type:            typ,
		Name:            req.GetName(),
		Parent:          req.GetParent(),
		Custom:          false,
		Object:          &structpb.Struct{},
		Protect:         req.Protect,
		Dependencies:    deps,
		Providers:       req.GetProviders(),
		Aliases:         req.GetAliases(),
		AliasSpecs:      true,
		AcceptSecrets:   true,
		AcceptResources: true,
		RetainOnDelete:  req.RetainOnDelete,
		DeletedWith:     req.GetDeletedWith(),
		IgnoreChanges:   req.GetIgnoreChanges(),
	})
	if err != nil {
		return nil, fmt.Errorf("stand-in %s provider: registering %s %s: %w", p.Name, typ, req.GetName(), err)
	}
	// No outputs: in a preview the real component's outputs (vpcId, subnet
	// ids, …) come from resources not created yet, so they are unknown.
	if _, err := monitor.RegisterResourceOutputs(ctx, &pulumirpc.RegisterResourceOutputsRequest{
		Urn:     reg.GetUrn(),
		Outputs: &structpb.Struct{},
	}); err != nil {
		return nil, fmt.Errorf("stand-in %s provider: outputs of %s: %w", p.Name, reg.GetUrn(), err)
	}
	return &pulumirpc.ConstructResponse{Urn: reg.GetUrn(), State: &structpb.Struct{}}, nil
}

func unwrapSecrets(m resource.PropertyMap) resource.PropertyMap {
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		out[k] = unwrapSecret(v)
	}
	return out
}

func unwrapSecret(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return unwrapSecret(v.SecretValue().Element)
	case v.IsOutput():
		if v.OutputValue().Known {
			return unwrapSecret(v.OutputValue().Element)
		}
		return resource.MakeComputed(resource.NewProperty(""))
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = unwrapSecret(e)
		}
		return resource.NewProperty(arr)
	case v.IsObject():
		return resource.NewProperty(unwrapSecrets(v.ObjectValue()))
	}
	return v
}
