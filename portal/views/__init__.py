"""The portal's pages, one module per area. Every figure comes from the same selectors as the
API's (coverage.selectors), every write goes through the same services (enrollment.services), for
the regions of the caller's scope (access.context): a page computes nothing the API does not."""
