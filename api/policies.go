package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/services/policies"
	"incasso/workflows"
)

// PolicyRequest is the body of PUT /v1/policies/{service}: the new ladder of the service.
type PolicyRequest struct {
	Steps []workflows.Step `json:"steps"`
}

// putPolicy stores a new version of a service's escalation policy. Debts issued from now on
// follow it; running debts keep theirs unless upgraded (POST /v1/debts/{iupd}/upgrade-policy).
func (s *Server) putPolicy(c echo.Context) error {
	service := c.Param("service")
	if _, ok := s.Config.Services.Find(service); !ok {
		return problem(http.StatusNotFound, "no service with this code")
	}
	var req PolicyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Steps == nil {
		return invalid([]FieldError{{Field: "steps", Message: "required: the list of steps, possibly empty"}})
	}
	if err := workflows.ValidateSteps(req.Steps); err != nil {
		return invalid([]FieldError{{Field: "steps", Message: err.Error()}})
	}
	p, err := policies.Save(c.Request().Context(), s.Pool, service, req.Steps, principalOf(c).Actor())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/policies/"+service+"/versions/"+strconv.Itoa(p.Version))
	return c.JSON(http.StatusCreated, p)
}

// getPolicy answers the latest policy of a service (version 0 is the built-in ladder).
func (s *Server) getPolicy(c echo.Context) error {
	service := c.Param("service")
	if _, ok := s.Config.Services.Find(service); !ok {
		return problem(http.StatusNotFound, "no service with this code")
	}
	p, err := policies.Latest(c.Request().Context(), dbgen.New(s.Pool), service)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// getPolicyVersion answers one stored version of a service's policy.
func (s *Server) getPolicyVersion(c echo.Context) error {
	version, err := strconv.ParseInt(c.Param("version"), 10, 32)
	if err != nil || version < 1 {
		return problem(http.StatusNotFound, "no such version")
	}
	p, err := policies.Version(c.Request().Context(), dbgen.New(s.Pool), c.Param("service"), int32(version))
	if errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "no such version")
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// upgradePolicy moves a running debt to the latest policy of its service.
func (s *Server) upgradePolicy(c echo.Context) error {
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	return s.updateDebt(c, d, workflows.UpdateUpgradePolicy)
}
