ALTER TABLE "Rollouts" ADD "AudienceGroupIds" TEXT NOT NULL DEFAULT '[]';

ALTER TABLE "UpdateReports" ADD "RoleRestarts" TEXT NULL;

ALTER TABLE "UpdateReports" ADD "TunnelsOpened" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "UpdateReports" ADD "TunnelsFailed" INTEGER NOT NULL DEFAULT 0;
