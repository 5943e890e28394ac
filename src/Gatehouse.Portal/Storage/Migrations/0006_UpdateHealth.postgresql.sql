ALTER TABLE "Rollouts" ADD "AudienceGroupIds" text NOT NULL DEFAULT '[]';

ALTER TABLE "UpdateReports" ADD "RoleRestarts" text;

ALTER TABLE "UpdateReports" ADD "TunnelsOpened" integer NOT NULL DEFAULT 0;

ALTER TABLE "UpdateReports" ADD "TunnelsFailed" integer NOT NULL DEFAULT 0;
