/* report_html.h - the HTML pieces report.c and story.c share. Internal to
 * src/output (report.html only). */
#ifndef BS_REPORT_HTML_H
#define BS_REPORT_HTML_H

#include <stdio.h>
#include "src/core/result.h"

/* Text from the data, escaped (escape.c) and made HTML: nothing from the
 * input can become markup. */
void bs_html(FILE *f, const char *s);
void bs_html_n(FILE *f, const char *s, size_t n);
void bs_html_time(FILE *f, bs_time t);
void bs_html_ip(FILE *f, const bs_ip *ip);

/* The report's sections about the compromised and suspicious servers
 * (story.c): the attack story, why each verdict, what to do now. */
void bs_report_story(FILE *f, const struct bs_results *r);
void bs_report_actions(FILE *f, const struct bs_results *r);

#endif
