package k8s

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sethvargo/go-retry"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Retry pauses between attempts of an API call that failed transiently.
var (
	retryFirst = 200 * time.Millisecond
	retryMax   = 2 * time.Second
)

// Transient reports whether an API error may pass by itself: a call that
// timed out, a refused or broken connection, a server error, throttling.
// What the API answered about the request itself (not found, forbidden,
// unauthorized, invalid, a conflict) is an answer, not a failure to retry.
func Transient(err error) bool {
	switch {
	case err == nil,
		apierrors.IsNotFound(err), apierrors.IsForbidden(err), apierrors.IsUnauthorized(err),
		apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsConflict(err),
		apierrors.IsAlreadyExists(err), apierrors.IsMethodNotSupported(err),
		apierrors.IsNotAcceptable(err), apierrors.IsUnsupportedMediaType(err),
		errors.Is(err, context.Canceled):
		return false
	}
	return true
}

// call runs one API call, each attempt bounded by CallTimeout, again while
// it fails transiently, until ctx ends (the hook's deadline): a busy or
// briefly unreachable API server (seen on a loaded node: a Lease read timed
// out after 10 s and failed a postStart) must not fail a hook that has time
// left. The first retry is logged. When ctx ends, the last error is
// returned with ctx's.
func call(ctx context.Context, log *slog.Logger, what string, fn func(context.Context) error) error {
	var last error // the last transient failure
	b := retry.WithJitterPercent(20, retry.WithCappedDuration(retryMax, retry.NewExponential(retryFirst)))
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		err := fn(cctx)
		if !Transient(err) {
			return err
		}
		if last == nil && log != nil {
			log.Warn("The Kubernetes API did not answer; trying again.", "call", what, "err", err)
		}
		last = err
		return retry.RetryableError(err)
	})
	// retry.Do reports only ctx's error when ctx ends between attempts.
	if last != nil && ctx.Err() != nil && err == ctx.Err() {
		return fmt.Errorf("%w (gave up: %w)", last, err)
	}
	return err
}
