// Package container is the container rehearsal (`make container-test`):
// it builds app/ from its real Dockerfile with BuildKit on stand-in base
// images, runs the image with the settings of the task definition that the
// program generates for the dev stack (read from the mocked graph), and
// checks it against the machine's PostgreSQL and Redis. The test needs
// the build tag `container` and a Docker engine; see README "Container
// rehearsal".
package container
