#include <stdio.h>
int main(void){puts("hanko-online");return 0;}
