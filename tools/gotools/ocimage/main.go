// Command ocimage writes a single-layer container image as an OCI image layout in a tar file
// (what `ctr images import`, `podman load` and `skopeo copy oci-archive:` read), from a rootfs
// tarball, with go-containerregistry. No registry, no daemon. Every timestamp is fixed (the
// -created flag, e.g. SOURCE_DATE_EPOCH), so the same rootfs gives the same digest.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var env, labels, ports, entrypoint list
	layerPath := flag.String("layer", "", "rootfs tarball (uncompressed)")
	out := flag.String("out", "", "OCI archive to write")
	ref := flag.String("ref", "", "image name recorded in the index, e.g. agent-sandbox/operator:0.1.0")
	user := flag.String("user", "", "uid:gid the image runs as")
	workdir := flag.String("workdir", "/", "working directory")
	created := flag.Int64("created", 0, "creation time, seconds since the epoch")
	flag.Var(&entrypoint, "entrypoint", "entrypoint argument (repeat)")
	flag.Var(&env, "env", "KEY=VALUE (repeat)")
	flag.Var(&labels, "label", "KEY=VALUE (repeat)")
	flag.Var(&ports, "port", "exposed port, e.g. 8080/tcp (repeat)")
	flag.Parse()
	if *layerPath == "" || *out == "" || *ref == "" {
		fmt.Fprintln(os.Stderr, "ocimage: -layer, -out and -ref are required")
		os.Exit(2)
	}
	digest, err := build(*layerPath, *out, *ref, *user, *workdir, time.Unix(*created, 0).UTC(), entrypoint, env, labels, ports)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocimage:", err)
		os.Exit(1)
	}
	fmt.Println(digest)
}

func build(layerPath, out, ref, user, workdir string, created time.Time, entrypoint, env, labels, ports []string) (string, error) {
	layer, err := tarball.LayerFromFile(layerPath, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return "", err
	}
	stamp := v1.Time{Time: created}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: stamp, CreatedBy: "ocimage -layer " + filepath.Base(layerPath)},
	})
	if err != nil {
		return "", err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS, cfg.Created = "amd64", "linux", stamp
	cfg.Config.Entrypoint, cfg.Config.Env, cfg.Config.User, cfg.Config.WorkingDir = entrypoint, env, user, workdir
	cfg.Config.Labels = map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		cfg.Config.Labels[k] = v
	}
	cfg.Config.ExposedPorts = map[string]struct{}{}
	for _, p := range ports {
		cfg.Config.ExposedPorts[p] = struct{}{}
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return "", err
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}

	dir, err := os.MkdirTemp("", "ocimage-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", err
	}
	tag := ref[strings.LastIndex(ref, ":")+1:]
	// containerd names the imported image from io.containerd.image.name; other tools read ref.name.
	if err := path.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          ref,
		"org.opencontainers.image.ref.name": tag,
	})); err != nil {
		return "", err
	}
	if err := tarDir(dir, out, created); err != nil {
		return "", err
	}
	return digest.String(), nil
}

// tarDir writes dir's files in name order with fixed owners, modes and times.
func tarDir(dir, out string, mtime time.Time) error {
	var names []string
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		names = append(names, rel)
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(names)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, name := range names {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: name, ModTime: mtime, Mode: 0o644, Typeflag: tar.TypeReg, Size: info.Size(), Format: tar.FormatPAX}
		if info.IsDir() {
			hdr = &tar.Header{Name: name + "/", ModTime: mtime, Mode: 0o755, Typeflag: tar.TypeDir, Format: tar.FormatPAX}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.IsDir() {
			src, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			if err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
