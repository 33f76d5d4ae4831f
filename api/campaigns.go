package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"incasso/services/campaigns"
	"incasso/workflows"
)

// CampaignProgress is a campaign as GET /v1/campaigns/{id} shows it.
type CampaignProgress struct {
	campaigns.Progress
	Links map[string]string `json:"links"`
}

// campaignID reads the {id} of the route; a malformed one is an unknown campaign.
func campaignID(c echo.Context) int64 {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

func (s *Server) withLinks(p campaigns.Progress) CampaignProgress {
	out := CampaignProgress{Progress: p, Links: map[string]string{"self": fmt.Sprintf("/v1/campaigns/%d", p.ID)}}
	if u := s.workflowURL(p.WorkflowID); u != "" {
		out.Links["workflow"] = u
	}
	return out
}

func (s *Server) getCampaign(c echo.Context) error {
	return s.respondCampaign(c, campaignID(c), http.StatusOK)
}

// CampaignList is a page of GET /v1/campaigns, newest first.
type CampaignList struct {
	Campaigns []CampaignProgress `json:"campaigns"`
	Next      string             `json:"next,omitempty"`
}

func (s *Server) listCampaigns(c echo.Context) error {
	pg, errs := pageOf(c, 20, 100)
	if len(errs) > 0 {
		return invalid(errs)
	}
	list, err := s.Campaigns.List(c.Request().Context(), pg.before, pg.limit)
	if err != nil {
		return err
	}
	page := CampaignList{Campaigns: make([]CampaignProgress, 0, len(list))}
	for _, p := range list {
		page.Campaigns = append(page.Campaigns, s.withLinks(p))
	}
	if len(list) == pg.limit {
		page.Next = fmt.Sprintf("/v1/campaigns?limit=%d&before=%d", pg.limit, list[len(list)-1].ID)
	}
	return c.JSON(http.StatusOK, page)
}

// LaunchRequest is the optional body of POST /v1/campaigns/{id}/launch.
type LaunchRequest struct {
	Rate int `json:"rate,omitempty"` // debts started per second; the campaign's start rate if 0
}

func (s *Server) launchCampaign(c echo.Context) error {
	var req LaunchRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	if err := s.Campaigns.Launch(c.Request().Context(), campaignID(c), req.Rate); err != nil {
		return err
	}
	return s.respondCampaign(c, campaignID(c), http.StatusAccepted)
}

func (s *Server) respondCampaign(c echo.Context, id int64, status int) error {
	p, err := s.Campaigns.Progress(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(status, s.withLinks(p))
}

func (s *Server) pauseCampaign(c echo.Context) error {
	return s.signalCampaign(c, workflows.SignalCampaignPause)
}

func (s *Server) resumeCampaign(c echo.Context) error {
	return s.signalCampaign(c, workflows.SignalCampaignResume)
}

func (s *Server) cancelCampaign(c echo.Context) error {
	return s.signalCampaign(c, workflows.SignalCampaignCancel)
}

// signalCampaign tells a launching campaign to pause, resume or stop launching.
func (s *Server) signalCampaign(c echo.Context, signal string) error {
	if err := s.Campaigns.Signal(c.Request().Context(), campaignID(c), signal); err != nil {
		return err
	}
	return s.respondCampaign(c, campaignID(c), http.StatusAccepted)
}

// WithdrawRequest is the body of POST /v1/campaigns/{id}/withdraw. Confirm must repeat the
// campaign's name: withdrawing cancels every unpaid debt of the campaign.
type WithdrawRequest struct {
	Reason  string `json:"reason"`
	Confirm string `json:"confirm"`
}

// withdrawCampaign stops a campaign and cancels all its unpaid debts, with a reason that each
// debtor is told.
func (s *Server) withdrawCampaign(c echo.Context) error {
	var req WithdrawRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	auditReason(c, req.Reason)
	if err := s.Campaigns.Withdraw(c.Request().Context(), campaignID(c), req.Reason, req.Confirm); err != nil {
		return err
	}
	return s.respondCampaign(c, campaignID(c), http.StatusAccepted)
}
