package pgtest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
)

// startDocker builds docker/Dockerfile and runs it, when a Docker engine answers. The client
// library connects without an engine, so the ping is what tells.
func startDocker() (*source, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, err
	}
	if err := pool.Client.Ping(); err != nil {
		return nil, fmt.Errorf("no Docker engine answers: %v", err)
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	resource, err := pool.BuildAndRunWithBuildOptions(
		&dockertest.BuildOptions{ContextDir: root, Dockerfile: filepath.Join("docker", "Dockerfile")},
		&dockertest.RunOptions{Name: "pgjobq-test-" + randomHex(4), Env: []string{"POSTGRES_HOST_AUTH_METHOD=trust"}},
		func(hc *docker.HostConfig) { hc.AutoRemove = true },
	)
	if err != nil {
		return nil, err
	}
	onStop(func() error { return pool.Purge(resource) })
	adminURL := fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", resource.GetHostPort("5432/tcp"))
	pool.MaxWait = 2 * time.Minute
	if err := pool.Retry(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	}); err != nil {
		stopServer()
		return nil, errors.Join(errors.New("the container did not accept connections"), err)
	}
	return &source{adminURL: adminURL}, nil
}
